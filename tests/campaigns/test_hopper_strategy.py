"""The hopper ranks by a campaign's strategy option, the gate still decides (a top-scored lead it refuses is
never dialled), and the arm that ranked a lead is written on its attempt."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.analytics import arms, service
from campaigns.analytics.strategy import Inputs, Plan, Ranking
from campaigns.errors import InvalidCampaign
from campaigns.hopper import Hopper
from cases import Store
from cases.models import Attempt
from compliance import CampaignFacts, ComplianceGate
from tests.campaigns.test_campaigns import NOW, TODAY, seed, spec
from tests.compliance.factories import utc


def hopper(store: Store, ranking: Ranking | None) -> Hopper:
    return Hopper(store, ComplianceGate(store), spec().segment, CampaignFacts(campaign_id=1), ranking=ranking)


def fixed(plan: Plan, inputs: Inputs, seed_name: str = "camp-1") -> Ranking:
    return Ranking(plan, seed_name, lambda now: inputs)


def test_strategy_reorders_allowed_leads(store: Store) -> None:
    ids = seed(store)
    base = hopper(store, fixed(Plan(), Inputs())).leads(NOW, 10, today=TODAY)
    assert [lead.account_id for lead in base] == [ids["big"], ids["small"]]
    assert {lead.arm for lead in base} == {arms.CHAMPION}
    likely = Inputs({ids["big"]: 0.01, ids["small"]: 0.9, ids["ceased"]: 1.0})
    ranked = hopper(store, fixed(Plan("propensity"), likely)).leads(NOW, 10, today=TODAY)
    assert [lead.account_id for lead in ranked] == [ids["small"], ids["big"]]
    assert ranked[0].score == 0.9 * 500


def test_best_time_weights_the_debtors_local_hour(store: Store) -> None:
    ids = seed(store)
    # debtors who usually answer (a 0.9 propensity in one dial needs it: willingness is a probability);
    # 14:00 in Beijing on NOW's weekday: "big" surely answers then, "small" never does
    flat = {(d, h): 0.95 for d in range(7) for h in range(24)}
    good = {**flat, (NOW.weekday(), 14): 1.0}
    bad = {**flat, (NOW.weekday(), 14): 0.0}
    inputs = Inputs({ids["big"]: 0.04, ids["small"]: 0.9}, {ids["big"]: good, ids["small"]: bad},
                    {ids["big"]: "Asia/Shanghai", ids["small"]: "Asia/Shanghai"})
    assert [lead.account_id for lead in hopper(store, fixed(Plan("propensity"), inputs)).leads(NOW, 10, today=TODAY)
            ] == [ids["small"], ids["big"]]
    assert [lead.account_id for lead in hopper(store, fixed(Plan("propensity_besttime"), inputs))
            .leads(NOW, 10, today=TODAY)] == [ids["big"], ids["small"]]


def test_compliance_first_high_score_never_dialled(store: Store) -> None:
    ids = seed(store)
    favour_ceased = fixed(Plan("propensity"), Inputs({ids["ceased"]: 1.0}))
    leads = hopper(store, favour_ceased).leads(NOW, 10, today=TODAY)
    assert ids["ceased"] not in [lead.account_id for lead in leads]  # under a cease hold: refused by the gate
    night = utc(2026, 11, 28, 14)  # 22:00 in Beijing, outside the lawful window
    assert hopper(store, favour_ceased).leads(night, 10, today=TODAY) == []


def test_champion_challenger_scores_each_case_by_its_arm_and_records_it(store: Store) -> None:
    ids = seed(store)
    seed_name = "camp-1"
    ranking = fixed(Plan("baseline", "propensity", 0.5), Inputs({i: 0.5 for i in ids.values()}), seed_name)
    h = hopper(store, ranking)
    leads = h.leads(NOW, 10, today=TODAY)
    for lead in leads:
        assert lead.arm == arms.arm(lead.account_id, seed_name)
        is_baseline = lead.score > 10000  # dpd x balance dwarfs 0.5 x balance here
        assert is_baseline == (lead.arm == arms.CHAMPION)
    claimed = [h.claim(lead, NOW + timedelta(seconds=i)) for i, lead in enumerate(leads)]
    with store.session() as session:
        written = dict(session.execute(select(Attempt.account_id, Attempt.arm).where(Attempt.id.in_(claimed))).all())
    assert written == {lead.account_id: lead.arm for lead in leads}


def test_plan_from_definition_and_its_refusals() -> None:
    assert Plan.from_definition({}) == Plan("baseline")
    plan = Plan.from_definition({"strategy": "propensity_besttime",
                                 "challenger": {"strategy": "baseline", "split": 0.2}})
    assert plan == Plan("propensity_besttime", "baseline", 0.2)
    assert Plan.from_definition(plan.to_json()) == plan
    for definition, field in (({"strategy": "random"}, "strategy"),
                              ({"challenger": {"strategy": "nope"}}, "challenger.strategy"),
                              ({"challenger": {"strategy": "propensity", "split": 1.5}}, "challenger.split"),
                              ({"challenger": {"strategy": "propensity", "split": "half"}}, "challenger.split"),
                              ({"challenger": {"split": 0.5}}, "challenger.strategy"),
                              ({"challenger": "propensity"}, "challenger"),
                              ({"strategy": "propensity", "challenger": {"strategy": "propensity"}},
                               "challenger.strategy")):
        with pytest.raises(InvalidCampaign) as refused:
            Plan.from_definition(definition)
        assert refused.value.details["field"] == field, definition


def test_ranking_for_a_campaign_without_a_model_keeps_dialling(store: Store, tmp_path: Path) -> None:
    ids = seed(store)
    ranking = service.ranking_for(store, tmp_path, 1, {"strategy": "propensity_besttime"})
    leads = hopper(store, ranking).leads(NOW, 10, today=TODAY)
    assert {lead.account_id for lead in leads} == {ids["big"], ids["small"]}  # all scored 0, none lost
