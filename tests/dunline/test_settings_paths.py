"""A relative data_dir is made absolute when settings load (issue 15 item 9): recordings were stored with paths
relative to the directory the command ran in, so a worker or `serve` started elsewhere could not find them."""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.attempts import recording_path, set_recording
from campaigns.hopper import Hopper
from cases import Store
from cases.models import Attempt
from compliance import CampaignFacts, ComplianceGate
from dunline.settings import load_settings
from tests.campaigns.test_campaigns import NOW, TODAY, seed, spec


def test_item_9_a_relative_data_dir_is_absolute_from_where_settings_loaded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUNLINE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUNLINE_DATA_DIR", "site/var")
    assert load_settings().data_dir == tmp_path / "site" / "var"
    monkeypatch.delenv("DUNLINE_DATA_DIR")
    assert load_settings().data_dir == tmp_path / "var"  # the default, too
    config = tmp_path / "dunline.toml"
    config.write_text('data_dir = "../elsewhere"\n')
    assert load_settings(config).data_dir == tmp_path.parent / "elsewhere"  # normalised, no ".." left
    assert load_settings(data_dir=Path("/srv/dunline")).data_dir == Path("/srv/dunline")


def test_item_9_an_attempts_recording_path_is_absolute_when_the_command_ran_with_a_relative_data_dir(
        sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUNLINE_DATA_DIR", "var")
    recordings = load_settings().data_dir / "recordings"  # as `campaign run` and `serve` derive it
    seed(sqlite_store)
    hopper = Hopper(sqlite_store, ComplianceGate(sqlite_store), spec().segment, CampaignFacts(campaign_id=1))
    attempt_id = hopper.claim(hopper.leads(NOW, 1, today=TODAY)[0], NOW)
    assert attempt_id is not None
    with sqlite_store.session() as session:
        set_recording(session, attempt_id, recording_path(recordings, attempt_id, NOW))
    monkeypatch.chdir(tmp_path.parent)  # a worker started elsewhere reads the row
    with sqlite_store.reading() as session:
        stored = Path(session.get(Attempt, attempt_id).recording_path)  # type: ignore[arg-type, union-attr]
    assert stored.is_absolute() and stored == tmp_path / "var" / "recordings" / "2026/11/28" / f"{attempt_id}.wav"
