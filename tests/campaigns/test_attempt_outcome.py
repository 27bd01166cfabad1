"""The attempt outcome each of the dialer's call results stands for."""

import pytest

from campaigns.attempts import outcome_of
from cases.models import AttemptOutcome
from dialer.sip.outcome import CallResult


def test_item_15_a_call_cancelled_when_its_ring_time_ran_out_is_no_answer() -> None:
    assert outcome_of(CallResult.CANCELLED) is AttemptOutcome.NO_ANSWER  # the dialer cancels only at ring timeout


@pytest.mark.parametrize("result", [r for r in CallResult if r is not CallResult.CANCELLED])
def test_every_other_result_keeps_its_name(result: CallResult) -> None:
    assert outcome_of(result) is AttemptOutcome(result.value)
