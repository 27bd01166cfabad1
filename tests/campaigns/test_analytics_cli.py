"""`dunline analytics` against a real SQLite install: train stores a versioned model with its evaluation,
evaluate shows it, explain lists contributions; an agent is refused."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cases import Store
from cases.models import Payment, PaymentChannel, User, utcnow
from console import tokens
from dunline.cli.main import app
from tests.campaigns.assignment_seed import add_case, add_user
from tests.dunline.conftest import admin, fresh_install  # noqa: F401 (fixtures)

runner = CliRunner()
AS_OF = date(2026, 10, 1)


def test_train_evaluate_explain_and_refusal(admin: str, fresh_install: Path,  # noqa: F811
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(f"sqlite:///{fresh_install / 'var' / 'dunline.db'}")
    ids = [add_case(store, f"C-{i}", dpd=10 + i, balance=str(500 + 37 * i)) for i in range(60)]
    with store.session() as session:
        for n, account in enumerate(ids):
            payer = n % 3 == 0
            if payer:  # paid before, pays again
                session.add(Payment(account_id=account, amount=Decimal("50"), paid_on=AS_OF - timedelta(days=20),
                                    channel=PaymentChannel.CARD, external_ref=f"b{n}"))
            if payer or n % 11 == 0:
                session.add(Payment(account_id=account, amount=Decimal("80"), paid_on=AS_OF + timedelta(days=5),
                                    channel=PaymentChannel.CARD, external_ref=f"a{n}"))
    trained = runner.invoke(app, ["analytics", "train", "--as-of", AS_OF.isoformat()])
    assert trained.exit_code == 0, trained.output
    version = fresh_install / "var" / "analytics" / "propensity" / "0001"
    assert {p.name for p in version.iterdir()} == {"model.json", "metadata.json", "evaluation.json"}
    evaluation = json.loads((version / "evaluation.json").read_text())
    assert evaluation["auc"] > 0.8 and len(evaluation["lift_by_decile"]) == 10
    assert runner.invoke(app, ["analytics", "train", "--as-of", AS_OF.isoformat()]).exit_code == 0
    assert (version.parent / "0002" / "model.json").exists()  # a new version, the first one kept
    shown = runner.invoke(app, ["analytics", "evaluate"])
    assert shown.exit_code == 0 and '"brier"' in shown.output
    explained = runner.invoke(app, ["analytics", "explain", str(ids[0]), "--as-of", AS_OF.isoformat()])
    assert explained.exit_code == 0 and "payments_90d" in explained.output, explained.output
    empty = runner.invoke(app, ["analytics", "compare", "77", "--to", "2026-11-30"])
    assert empty.exit_code == 1 and "campaign 77 has no attempt with an arm" in empty.output.replace("\n", " ")
    assert "is not a date" in runner.invoke(app, ["analytics", "explain", "1", "--as-of", "x"]).output

    add_user(store, "ian")
    with store.session() as session:
        ian = session.scalar(select(User).where(User.username == "ian"))
        assert ian is not None
        monkeypatch.setenv("DUNLINE_TOKEN", tokens.mint(session, ian, actor="t", now=utcnow()).token)
    denied = runner.invoke(app, ["analytics", "evaluate"])
    assert denied.exit_code == 1 and "may not analytics" in denied.output.replace("\n", " ")
