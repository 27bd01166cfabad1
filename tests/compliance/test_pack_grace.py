"""The promise grace period is a rule-pack setting: 3 days unless a pack says otherwise; a campaign may only
lengthen it; a bad value names the rule."""

import pytest

from compliance.rulepack import RulePackError, _parse_rules, load_packs


def test_grace_defaults_to_three_days_and_parses():
    assert {pack.rules.promise_grace_days for pack in load_packs().values()} == {3}
    rules = _parse_rules("X.yaml", {"calling_window": {"start": "08:00", "end": "21:00"}, "promise_grace_days": 5})
    assert rules.promise_grace_days == 5
    with pytest.raises(RulePackError, match="rules.promise_grace_days"):
        _parse_rules("X.yaml", {"calling_window": {"start": "08:00", "end": "21:00"}, "promise_grace_days": -1})


def test_a_campaign_may_lengthen_the_grace_but_not_shorten_it():
    pack = load_packs()["CN"]
    assert pack.tightened({"promise_grace_days": 7}).rules.promise_grace_days == 7
    with pytest.raises(RulePackError, match="loosens"):
        pack.tightened({"promise_grace_days": 1})
