# Dunline: `make demo` runs the main job on embedded defaults, `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DUNLINE := $(VENV)/bin/dunline
DEMO_DIR := var/demo
# The gates' simulated wall clock for the demo campaign: a Monday, 10:30 in Beijing.
DEMO_CLOCK := 2026-11-30T02:30:00+00:00
# Commands that act as a user do so with the demo admin's API token, minted when the admin is added.
AS_ADMIN = DUNLINE_DATA_DIR=$(DEMO_DIR) DUNLINE_TOKEN=$$(cat $(DEMO_DIR)/admin.token)

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/bootstrap.sh deploy/apt-packages.txt
	PYTHON=$(PYTHON) scripts/bootstrap.sh

demo: install
	rm -rf $(DEMO_DIR)
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) db upgrade
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) users add admin --role admin --name "Demo Admin" --token-file $(DEMO_DIR)/admin.token
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) demo-data $(DEMO_DIR)/cases-500.csv --count 500 --seed 7
	$(AS_ADMIN) $(DUNLINE) import cases $(DEMO_DIR)/cases-500.csv
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) cases list --dpd 31-60 --min-balance 1000 --limit 10
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) cases show CN00000001
	$(AS_ADMIN) $(DUNLINE) holds add --kind dispute --account EN00000005 --note "demo: says already paid"
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) gate check CN00000001
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) gate check EN00000005
	$(DUNLINE) simulate pacing --agents 20 --answer-rate 0.2 --hours 1
	$(DUNLINE) simulate calls --calls 16 --agents 4 --recordings $(DEMO_DIR)/recordings
	$(AS_ADMIN) $(DUNLINE) campaign create demo-cn --jurisdiction CN --dpd 31-60 --dpd 61-90 --dpd 91-180 --mode predictive --caller-id 4008001234
	$(AS_ADMIN) $(DUNLINE) campaign start demo-cn
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) campaign run demo-cn --seconds 90 --agents 5 --rude-agents 1 --at $(DEMO_CLOCK)
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) campaign status demo-cn
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) findings list
	DUNLINE_DATA_DIR=$(DEMO_DIR) $(DUNLINE) audit verify
	@echo "demo database: $(DEMO_DIR)/dunline.db; recordings and transcripts (*.transcript.json): $(DEMO_DIR)/recordings"

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) bench/import_cases.py
	$(PY) bench/gates.py
	$(PY) bench/pacing.py --quick
	$(PY) bench/telephony.py
	$(PY) bench/amd.py
	$(PY) bench/transcribe.py
	$(PY) bench/screening.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
