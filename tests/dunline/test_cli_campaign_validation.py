"""`dunline campaign` as a new user meets it (issue 15 item 9): a bad `--at` is an error naming the option, not
a traceback; a naive one is read as UTC and said so; names that do not exist and segments with nothing to dial
are refused with the message and exit status 1."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from dunline.cli.campaign import parse_at
from dunline.cli.main import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, BaseException | None]:
    """Exit code, the output with its line wrapping undone, and what was raised."""
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split()), result.exception


@pytest.mark.parametrize("at, problem", [("2026-02-30T10:00", "day is out of range"),
                                         ("tomorrow", "not an ISO 8601 date and time"),
                                         ("2026-11-30T25:00", "hour must be in 0..23")])
def test_item_9_an_impossible_at_is_an_error_naming_the_option(fresh_install: Path, at: str, problem: str) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out, raised = run("campaign", "run", "late", "--at", at)
    assert code == 2 and not isinstance(raised, ValueError), (code, out, raised)  # was: a ValueError traceback
    assert "--at" in out and at in out and problem in out and "Traceback" not in out


def test_item_9_at_without_an_offset_is_read_as_utc_and_said_so(fresh_install: Path) -> None:
    assert parse_at("2026-11-30T02:30") == datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)
    assert parse_at("2026-11-30T10:30+08:00") == datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)
    assert parse_at("2026-11-30T02:30Z") == datetime(2026, 11, 30, 2, 30, tzinfo=timezone.utc)
    with pytest.raises(typer.BadParameter):
        parse_at("2026-02-30")
    assert run("db", "upgrade")[0] == 0
    code, out, _ = run("campaign", "run", "late", "--at", "2026-11-30T02:30")
    assert "simulated clock from 2026-11-30T02:30:00+00:00" in out


def test_item_9_create_refuses_unknown_names_and_start_refuses_an_empty_segment(fresh_install: Path) -> None:
    assert run("db", "upgrade")[0] == 0
    code, out, _ = run("campaign", "create", "robots", "--mode", "agentless", "--ivr", "colections")
    assert code == 1 and "unknown IVR flow 'colections'" in out and "collections" in out
    code, out, _ = run("campaign", "create", "abroad", "--jurisdiction", "XX")
    assert code == 1 and "no rule pack for jurisdiction(s) XX" in out
    code, out, _ = run("campaign", "create", "late", "--dpd", "31-60")
    assert code == 0 and "0 cases in its segment" in out and "nothing to dial" in out  # created, with a warning
    code, out, _ = run("campaign", "start", "late")
    assert code == 1 and "holds no case" in out and "widen the segment" in out
    code, out, _ = run("campaign", "status", "late")
    assert code == 0 and "draft" in out
