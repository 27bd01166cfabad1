"""The hopper ranks by a campaign's strategy, and the gate still decides: a top-scored lead it refuses is
never dialled."""

from __future__ import annotations

from campaigns.analytics import arms, strategy
from campaigns.hopper import Hopper
from cases import Store
from compliance import CampaignFacts, ComplianceGate
from tests.campaigns.test_campaigns import NOW, TODAY, seed, spec
from tests.compliance.factories import utc


def hopper(store: Store, rescore: strategy.Rescore | None) -> Hopper:
    return Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=1), rescore=rescore)


def test_strategy_reorders_allowed_leads(store: Store) -> None:
    ids = seed(store)
    base = [lead.account_id for lead in hopper(store, strategy.baseline()).leads(NOW, 10, today=TODAY)]
    assert base == [ids["big"], ids["small"]]
    likely = {ids["big"]: 0.01, ids["small"]: 0.9, ids["ceased"]: 1.0}
    ranked = hopper(store, strategy.by_propensity(likely)).leads(NOW, 10, today=TODAY)
    assert [lead.account_id for lead in ranked] == [ids["small"], ids["big"]]
    assert ranked[0].score == 0.9 * 500


def test_compliance_first_high_score_never_dialled(store: Store) -> None:
    ids = seed(store)
    favour_ceased = strategy.by_propensity({ids["ceased"]: 1.0})
    leads = hopper(store, favour_ceased).leads(NOW, 10, today=TODAY)
    assert ids["ceased"] not in [lead.account_id for lead in leads]  # under a cease hold: refused by the gate
    night = utc(2026, 11, 28, 14)  # 22:00 in Beijing, outside the lawful window
    assert hopper(store, favour_ceased).leads(night, 10, today=TODAY) == []


def test_champion_challenger_scores_each_case_by_its_arm(store: Store) -> None:
    ids = seed(store)
    seed_name = "camp-1"
    rescore = strategy.split(seed_name, strategy.baseline(), strategy.by_propensity({i: 0.5 for i in ids.values()}))
    leads = hopper(store, rescore).leads(NOW, 10, today=TODAY)
    for lead in leads:
        expected_arm = arms.arm(lead.account_id, seed_name)
        is_baseline = lead.score > 10000  # dpd x balance dwarfs 0.5 x balance here
        assert is_baseline == (expected_arm == arms.CHAMPION)
