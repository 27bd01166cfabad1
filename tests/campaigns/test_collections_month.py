"""Issue 18's acceptance in small: bench/collections_month.py's simulated month (reminders to the real SMSC peer,
hopper and gate calls, promises, bank statements, settlement) over 300 accounts, checked from the rows by
bench/month_checks.py; and proof that each of those checks fails on a violating row."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))  # after the product packages: bench/messaging.py must not shadow messaging
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


checks = _module("month_checks")
LIMITS = checks.load_limits()
UTC = timezone.utc


def call(id: int, at: datetime, *, jurisdiction: str = "CN", zones: tuple[str, ...] = ("Asia/Shanghai",),
         channel: str = "call", conversation: bool = False, account: int = 1, debtor: int = 1,
         number: str = "+8613812345678"):  # type: ignore[no-untyped-def]
    return checks.AttemptRow(id, account, debtor, jurisdiction, zones, channel, number, at, conversation)


def test_a_contact_outside_its_window_is_a_violation_in_every_zone_of_the_number() -> None:
    inside = call(1, datetime(2026, 3, 2, 13, 59, tzinfo=UTC))  # 21:59 in Shanghai
    late = call(2, datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 22:00
    sms = call(3, datetime(2026, 3, 2, 23, 30, tzinfo=UTC), channel="sms")  # 07:30 next day
    texas = call(4, datetime(2026, 3, 3, 3, 30, tzinfo=UTC), jurisdiction="US",
                 zones=("America/Chicago", "America/Denver"))  # 21:30 Central (too late), 20:30 Mountain
    found = checks.windows([inside, late, sms, texas], LIMITS)
    assert [(v.subject, v.detail.split(" at ")[0]) for v in found] == [
        ("attempt 2", "call"), ("attempt 3", "sms"), ("attempt 4", "call")]


def test_daily_caps_count_per_local_day_and_across_channels() -> None:
    noon = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    three_sms = [call(i, noon, channel="sms") for i in range(3)]  # CN: at most 2 SMS a day
    assert {v.check for v in checks.daily_caps(three_sms, LIMITS)} == {"sms:per_debtor_day"}
    # 2 conversations + 2 SMS = 4 contacts > 3 (CN counts collection SMS as contacts), each channel within its cap
    mixed = [call(1, noon, conversation=True), call(2, noon, conversation=True),
             call(3, noon, channel="sms"), call(4, noon, channel="sms")]
    assert [v.check for v in checks.daily_caps(mixed, LIMITS)] == ["call:contacts_per_debtor_day"]
    # the same four on two local days are fine
    spread = mixed[:2] + [call(3, datetime(2026, 3, 3, 4, tzinfo=UTC), channel="sms"),
                          call(4, datetime(2026, 3, 3, 4, tzinfo=UTC), channel="sms")]
    assert checks.daily_caps(spread, LIMITS) == []
    unanswered = [call(i, noon) for i in range(7)]
    assert [v.check for v in checks.daily_caps(unanswered, LIMITS)] == ["call:unanswered_per_number_day"]


def test_reg_f_seven_in_seven_and_the_conversation_cool_down_count_local_days() -> None:
    us = dict(jurisdiction="US", zones=("America/New_York",), number="+12125550123")
    eight = [call(i, datetime(2026, 3, 2 + i % 7, 15, i, tzinfo=UTC), **us) for i in range(8)]  # type: ignore[arg-type]
    assert [v.detail for v in checks.rolling_caps(eight, LIMITS)] == ["attempt 6: 8 > 7"]  # the 8th in time, on Mar 8
    spread = [call(i, datetime(2026, 3, 2 + i, 15, tzinfo=UTC), **us) for i in range(8)]  # type: ignore[arg-type]
    assert checks.rolling_caps(spread, LIMITS) == []  # one a day: never more than 7 in 7 local days
    # a conversation on Monday 20:00 local: day 1 of 7, calls allowed from the next Monday's start
    talk = call(1, datetime(2026, 3, 3, 1, tzinfo=UTC), conversation=True, **us)  # type: ignore[arg-type]
    sunday = call(2, datetime(2026, 3, 8, 20, tzinfo=UTC), **us)  # type: ignore[arg-type]
    monday = call(3, datetime(2026, 3, 9, 13, tzinfo=UTC), **us)  # type: ignore[arg-type]  # 09:00 EDT
    assert [v.check for v in checks.rolling_caps([talk, sunday], LIMITS)] == ["conversation_cooldown_days"]
    assert checks.rolling_caps([talk, monday], LIMITS) == []


def test_an_attempt_on_a_held_account_is_a_violation() -> None:
    at = datetime(2026, 3, 2, 4, tzinfo=UTC)
    dispute = checks.HoldRow(1, None, "dispute", datetime(2026, 3, 1, tzinfo=UTC), None)
    opt_out = checks.HoldRow(None, 1, "sms_opt_out", None, None)
    assert [v.subject for v in checks.held([call(1, at), call(2, at, account=2)], [dispute])] == ["attempt 1"]
    assert [v.subject for v in checks.held([call(1, at, account=2), call(2, at, account=2, channel="sms")],
                                           [opt_out])] == ["attempt 2"]


def test_promise_states_follow_the_payments_within_date_plus_grace() -> None:
    def promise(state: str):  # type: ignore[no-untyped-def]
        return checks.PromiseRow(9, 5, Decimal("100.00"), date(2026, 3, 2), date(2026, 3, 5), state)

    def paid(day: int, amount: str) -> list:  # type: ignore[type-arg]
        return [checks.PaymentLine(f"T{day}", 5, date(2026, 3, day), Decimal(amount))]

    end = date(2026, 3, 31)
    assert checks.expected_state(promise("x"), paid(8, "100"), 3, end) == "kept"  # in the grace
    assert checks.expected_state(promise("x"), paid(9, "100"), 3, end) == "broken"  # a day too late
    assert checks.expected_state(promise("x"), paid(4, "60"), 3, end) == "partly_kept"
    assert checks.expected_state(promise("x"), paid(4, "60"), 3, date(2026, 3, 8)) == "pending"
    assert checks.promises([promise("kept")], paid(8, "100"), 3, end) == []
    [wrong] = checks.promises([promise("broken")], paid(4, "100"), 3, end)
    assert wrong.detail == "state broken, payments imply kept"
    unmatched = [checks.PaymentLine("T4", None, date(2026, 3, 4), Decimal("100"))]  # never reached the account
    assert checks.promises([promise("broken")], unmatched, 3, end) == []


def test_each_payment_line_matched_to_its_account_or_queued() -> None:
    lines = [checks.PaymentLine("A", 5, date(2026, 3, 4), Decimal(1)),
             checks.PaymentLine("B", None, date(2026, 3, 4), Decimal(1))]
    right = [checks.LineOutcome("A", "matched", 5), checks.LineOutcome("B", "unmatched", None)]
    assert checks.payments(lines, right) == []
    wrong = [checks.LineOutcome("A", "matched", 6), checks.LineOutcome("B", "matched", 7)]
    assert [v.subject for v in checks.payments(lines, wrong)] == ["A", "B"]
    assert [v.detail for v in checks.payments(lines, right[:1])] == ["not imported"]


def test_every_rule_a_pack_states_is_either_checked_or_listed_as_unchecked() -> None:
    unchecked = checks.unchecked_rules(LIMITS)
    assert set(unchecked) >= {"CN", "US"}
    assert "calling_window" not in unchecked["CN"] and "third_party_calls" in unchecked["CN"]
    assert "sms.opt_out_notice" in unchecked["US"] and "sms.window" not in unchecked["US"]


def test_each_sms_is_settled_by_its_receipt() -> None:
    noon = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
    sms = [call(1, noon, channel="sms", number="+8613800000001"), call(2, noon, channel="sms", number="+8613800000099"),
           call(3, noon)]
    assert checks.deliveries(sms, {1: "delivered", 2: "failed"}) == []
    found = checks.deliveries(sms, {1: "submitted", 2: "delivered"})
    assert [(v.subject, v.detail) for v in found] == [
        ("attempt 1", "submitted, the SMSC's receipt says delivered"),
        ("attempt 2", "delivered, the SMSC's receipt says failed")]


def test_a_simulated_month_has_no_violation_and_each_promise_and_payment_right(tmp_path: Path) -> None:
    if subprocess.run(["perl", "-MNet::SMPP", "-e1"], capture_output=True).returncode != 0:
        pytest.fail("the SMSC peer needs Debian's libnet-smpp-perl: run `make install` as root")
    month = _module("collections_month")
    # 300 accounts: the month takes ~12 s a simulated day at 1,000 on the 2-core machine; the bench runs 10,000
    result = month.run_month(month.MonthConfig(accounts=100, days=30, seed=7), tmp_path)
    figures = result.figures
    assert result.violations == [], result.violations[:10]
    assert {"CN", "US", "UK"} <= set(figures["jurisdictions"])
    assert figures["messages"] > 0 and figures["calls"] > 0 and figures["conversations"] > 0
    # every promise settled or still in its grace; kept, partly kept and broken all occur
    assert {"kept", "partly_kept", "broken"} <= set(figures["promises"])
    assert figures["payments_matched"] > 0 and figures["payments_unmatched"] > 0
    assert figures["payments_matched"] + figures["payments_unmatched"] == figures["payment_lines"]
