"""Issue 14, probe 17: the IVR verifies with two factors (date of birth and the first six digits of the
national ID, which masked views hide) and locks verification out across calls, per account and per calling
number, in a window read from the injected clock; the lockout lives in the case store."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cases import Store
from cases.models import AuditEntry
from ivr.verification import ID_FACTOR_DIGITS, LOCKOUT_FAILURES, LOCKOUT_WINDOW, MIN_ID_LENGTH
from tests.ivr.test_runtime import DOB, NOW, VERIFY, Keypad, run, said, seed

WRONG = f"{DOB}#000000#"  # the right date of birth with a wrong ID: one failed verification, then silence


def disclosed(keypad: Keypad) -> bool:
    return "three hundred forty" in said(keypad)


async def test_probe_17_dob_alone_no_longer_verifies(store: Store) -> None:
    account_id, _ = seed(store)
    keypad, log = await run(store, f"2{DOB}#", account_id=account_id)
    assert not disclosed(keypad) and log.path[-1] == "not_verified"
    keypad, log = await run(store, f"2{DOB}#{DOB[:6]}#", account_id=account_id)  # the ID's birth digits are no key
    assert not disclosed(keypad) and "load" not in log.path
    keypad, _ = await run(store, f"2{VERIFY}", account_id=account_id)
    assert disclosed(keypad)


async def test_probe_17_an_inbound_caller_found_by_number_must_still_verify(store: Store) -> None:
    """The calling number is a hint that finds the account, never an identity: both factors are asked."""
    seed(store)
    keypad, log = await run(store, "2")  # inbound from the debtor's own number, keying nothing
    assert "ask_dob" in log.path and not disclosed(keypad)
    keypad, _ = await run(store, f"2{VERIFY}")
    assert disclosed(keypad)


async def test_probe_17_a_debtor_without_a_national_id_is_passed_to_an_agent_unasked(store: Store) -> None:
    account_id, _ = seed(store, national_id=None)
    keypad, log = await run(store, f"2{VERIFY}", account_id=account_id)
    assert not disclosed(keypad) and "ask_dob" not in log.path
    assert log.outcome == "transferred" and keypad.transferred is not None
    assert not keypad.transferred[1].get("verified")


async def test_probe_17_failures_across_calls_lock_out_even_the_right_answers(store: Store) -> None:
    """Per account: five callers from five numbers fail once each; then the debtor's own number, with the
    right answers, is refused without the answers being checked, and told to contact the creditor."""
    account_id, _ = seed(store)
    for n in range(LOCKOUT_FAILURES):
        keypad, _ = await run(store, f"2{WRONG}", account_id=account_id, caller=f"+8613800000{n:03d}")
        assert not disclosed(keypad)
    keypad, log = await run(store, f"2{VERIFY}", account_id=account_id)
    assert not disclosed(keypad) and log.path[-1] == "locked_out" and "contact your creditor" in said(keypad)
    assert "ask_dob" not in log.path  # refused before anything is asked
    with store.session() as session:
        failed = session.scalars(select(AuditEntry).where(AuditEntry.action == "ivr.verify_failed")).all()
        refused = session.scalars(select(AuditEntry).where(AuditEntry.action == "ivr.verify_refused")).all()
    assert len(failed) == LOCKOUT_FAILURES and len(refused) == 1
    assert refused[0].entity_id == str(account_id) and refused[0].details["locked"] == ["account"]
    for entry in failed + refused:  # audited, the number masked
        assert "+8613800000" not in str(entry.details) and "+14155550100" not in str(entry.details)
        assert "****" in entry.details["caller"]


async def test_probe_17_the_last_failure_of_a_call_locks_out_at_once(store: Store) -> None:
    """Across calls: three tries in one call, two in the next; the fifth failure ends the call as locked out."""
    account_id, _ = seed(store)
    await run(store, "2" + f"{DOB}#000000#" * 3, account_id=account_id)
    keypad, log = await run(store, "2" + f"{DOB}#000000#" * 2 + VERIFY, account_id=account_id)
    assert not disclosed(keypad) and log.path.count("ask_dob") == 2 and log.path[-1] == "locked_out"


async def test_probe_17_a_lockout_per_caller_number_covers_several_accounts(store: Store) -> None:
    first, _ = seed(store, ref="1")
    second, _ = seed(store, ref="2")
    third, _ = seed(store, ref="3")
    caller = "+8613912345678"
    await run(store, "2" + WRONG * 3, account_id=first, caller=caller)  # 3 against the first account
    await run(store, "2" + WRONG * 2, account_id=second, caller=caller)  # 2 against the second: 5 from one number
    keypad, log = await run(store, f"2{VERIFY}", account_id=third, caller=caller)
    assert not disclosed(keypad) and log.path[-1] == "locked_out"
    keypad, _ = await run(store, f"2{VERIFY}", account_id=third, caller="+14155550100")  # another number may
    assert disclosed(keypad)


async def test_probe_17_a_made_up_long_caller_number_is_counted_too(store: Store) -> None:
    """From is whatever the far end sends: a long one is stored cut short, and still counts as one caller."""
    accounts = [seed(store, ref=str(n))[0] for n in range(LOCKOUT_FAILURES + 1)]
    caller = "+86" + "1" * 200
    for n, account_id in enumerate(accounts[:-1]):  # one failure per account, the callers differing at the end
        await run(store, f"2{WRONG}", account_id=account_id, caller=caller + str(n))
    keypad, log = await run(store, f"2{VERIFY}", account_id=accounts[-1], caller=caller)
    assert not disclosed(keypad) and log.path[-1] == "locked_out"


async def test_probe_17_a_restart_keeps_the_lockout(store: Store) -> None:
    account_id, _ = seed(store)
    for _ in range(LOCKOUT_FAILURES):
        await run(store, f"2{WRONG}", account_id=account_id)
    restarted = Store(store.url, keys=store.columns.keys)  # a new process: new engine, new actions, same database
    try:
        keypad, log = await run(restarted, f"2{VERIFY}", account_id=account_id)
    finally:
        restarted.dispose()
    assert not disclosed(keypad) and log.path[-1] == "locked_out"


async def test_probe_17_the_lockout_window_expires_with_the_clock(store: Store) -> None:
    account_id, _ = seed(store)
    for _ in range(LOCKOUT_FAILURES):
        await run(store, f"2{WRONG}", account_id=account_id)
    keypad, _ = await run(store, f"2{VERIFY}", account_id=account_id, now=NOW + LOCKOUT_WINDOW - timedelta(minutes=1))
    assert not disclosed(keypad)
    keypad, _ = await run(store, f"2{VERIFY}", account_id=account_id, now=NOW + LOCKOUT_WINDOW)
    assert disclosed(keypad)


@pytest.mark.parametrize("national_id", ["11010519850312002X", "1234567890"[:MIN_ID_LENGTH]])
def test_probe_17_the_id_factor_is_hidden_by_masked_views(national_id: str) -> None:
    """Agents see IDs masked: of the digits the IVR asks for, all but the first two are hidden there."""
    from cases.masking import mask_national_id

    assert mask_national_id(national_id)[2:ID_FACTOR_DIGITS] == "*" * (ID_FACTOR_DIGITS - 2)
