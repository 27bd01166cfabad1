"""`dunline payments` and `dunline promises settle` end to end on a real SQLite file."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cases.statements import EXAMPLES
from dunline.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DUNLINE_DATA_DIR", str(tmp_path / "var"))
    for name in ("DUNLINE_DATABASE_URL", "DUNLINE_USER", "DUNLINE_TOKEN", "DUNLINE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_import_queue_resolve_settle(env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    cases = env / "cases.csv"
    cases.write_text("account_ref,creditor,full_name,product,balance\n"
                     "LN-0001,Acme Bank,张三,credit_card,2000\nLN-0002,Acme Bank,李四,credit_card,1500\n", encoding="utf-8")
    assert run("import", "cases", str(cases))[0] == 0

    code, out = run("payments", "import", str(EXAMPLES / "bank.csv"), "--source", "bank")
    assert code == 0 and "1 matched and applied, 1 unmatched, 0 already imported" in out, out
    code, out = run("payments", "import", str(EXAMPLES / "bank.csv"), "--source", "bank")
    assert code == 0 and "0 matched and applied, 0 unmatched, 2 already imported" in out

    code, out = run("payments", "unmatched")
    assert code == 0 and "B20260310000002" in out and "李四" not in out  # the payer's name is masked
    item = next(line.split()[1] for line in out.splitlines() if "B20260310000002" in line)
    code, out = run("payments", "resolve", item, "2")
    assert code == 0 and f"item {item} applied to account 2" in out
    code, out = run("payments", "resolve", item, "2")
    assert code == 1 and "no such item waiting" in out
    assert "B20260310000002" not in run("payments", "unmatched")[1]

    code, out = run("promises", "settle", "--at", "2026-03-20T12:00:00")
    assert code == 0 and "nothing to settle" in out
    assert run("audit", "verify")[0] == 0

    limits = str(EXAMPLES / "plan-limits.yaml")
    code, out = run("plans", "propose", "LN-0001", "--monthly", "700", "--limits", limits, "--today", "2026-03-01")
    assert code == 0 and "2026-03-01  500" in out and "2026-04-01  700" in out, out
    code, out = run("plans", "propose", "LN-0001", "--monthly", "100", "--limits", limits, "--today", "2026-03-01")
    assert code == 1 and "monthly amount must be at least 200" in out


def test_bad_statement_names_row_and_column_and_imports_nothing(env: Path) -> None:
    run("db", "upgrade")
    bad = env / "bad.csv"
    bad.write_text("交易时间,交易流水号,贷方发生额,对方户名,附言\n2026-03-10 09:00,T1,10,甲,\n2026-03-10 09:00,T2,x,乙,\n",
                   encoding="utf-8")
    code, out = run("payments", "import", str(bad), "--source", "bank")
    assert code == 1 and "row 3" in out and "贷方发生额" in out and "not an amount" in out
    assert "nothing imported" in out
    code, out = run("payments", "import", str(bad), "--source", "paypal")
    assert code == 1 and "bank, alipay, wechat" in out


def test_plans_store_show_reschedule(env: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    cases = env / "cases.csv"
    cases.write_text("account_ref,creditor,full_name,product,balance\nLN-0001,Acme Bank,张三,credit_card,2000\n",
                     encoding="utf-8")
    assert run("import", "cases", str(cases))[0] == 0
    limits = str(EXAMPLES / "plan-limits.yaml")
    code, out = run("plans", "store", "LN-0001", "--monthly", "700", "--limits", limits, "--today", "2026-03-01")
    assert code == 0 and "plan 1 stored: 4 instalment(s), 2000" in out, out
    code, out = run("plans", "reschedule", "1", "--monthly", "100", "--limits", limits, "--today", "2026-05-10")
    assert code == 1 and "at least 200" in out, out
    code, out = run("plans", "reschedule", "1", "--monthly", "1000", "--limits", limits, "--today", "2026-05-10")
    assert code == 0 and "2026-06-10     1000.00" in out and "2026-07-10     1000.00" in out, out
    code, out = run("plans", "show", "1")
    assert code == 0 and out.count("due") == 2 and "2026-03-01" not in out, out
    assert run("audit", "verify")[0] == 0
