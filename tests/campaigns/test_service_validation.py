"""What a new user meets first (issue 15, items 8 and 9): a campaign over an unknown IVR flow or jurisdiction is
refused when created, a start with nothing to dial is refused with the count, and every refusal carries a
stable error_id and HTTP status (campaigns.errors) instead of text for callers to match."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from campaigns.errors import (
    BadTransition,
    CampaignError,
    CampaignExists,
    EmptySegment,
    InvalidCampaign,
    NoSuchCampaign,
    UnknownIvrFlow,
    UnknownJurisdiction,
)
from campaigns.service import change_status, create_campaign, find_campaign
from cases import Store
from cases.models import Campaign, CampaignStatus, Phone, PhoneStatus
from cases.segments import Segment
from dialer.pacing.modes import DialMode
from tests.campaigns.test_campaigns import NOW, seed, spec


def test_item_9_an_unknown_ivr_flow_is_refused_when_created(store: Store) -> None:
    with store.session() as session, pytest.raises(UnknownIvrFlow) as refused:
        create_campaign(session, spec(dial_mode=DialMode.AGENTLESS, ivr_flow="colections"), actor="m")
    error = refused.value
    assert (error.status, error.error_id) == (400, "unknown_ivr_flow")
    assert error.details["field"] == "ivr_flow" and "collections" in error.details["known"]
    assert "colections" in error.message and "collections" in error.message
    with store.session() as session:  # the flow shipped in ivr/flows, by the name campaigns use for it
        assert create_campaign(session, spec(dial_mode=DialMode.AGENTLESS, ivr_flow="collections"), actor="m").id


def test_item_9_an_unknown_jurisdiction_is_refused_when_created(store: Store) -> None:
    with store.session() as session, pytest.raises(UnknownJurisdiction) as refused:
        create_campaign(session, spec(segment=Segment(jurisdictions=("CN", "XX"))), actor="m")
    error = refused.value
    assert (error.status, error.error_id) == (400, "unknown_jurisdiction")
    assert error.details["field"] == "segment.jurisdictions" and error.details["unknown"] == ["XX"]
    assert {"CN", "US", "US-FL"} <= set(error.details["known"])
    with store.session() as session:  # codes are matched as the segment matches accounts: case-blind
        assert create_campaign(session, spec(segment=Segment(jurisdictions=("cn", "US-FL"))), actor="m").id


def test_item_9_a_start_over_an_empty_segment_is_refused_with_the_count(store: Store) -> None:
    seed(store)
    with store.session() as session:
        empty = create_campaign(session, spec(name="nobody", segment=Segment(dpd=("180+",))), actor="m").id
        phoneless = create_campaign(session, spec(name="no-phone", segment=Segment(dpd=("31-60",))), actor="m").id
        session.execute(update(Phone).where(Phone.e164 == "+8613800000011").values(status=PhoneStatus.INVALID))
    for campaign_id, cases, why in ((empty, 0, "holds no case"), (phoneless, 1, "none with an active phone")):
        with store.session() as session, pytest.raises(EmptySegment) as refused:
            change_status(session, campaign_id, "start", actor="m", now=NOW)
        error = refused.value
        assert (error.status, error.error_id) == (409, "empty_segment")
        assert error.details == {"segment_cases": cases, "dialable_cases": 0}
        assert why in error.message and "widen the segment" in error.message
        with store.reading() as session:
            assert session.get(Campaign, campaign_id).status is CampaignStatus.DRAFT  # type: ignore[union-attr]
    with store.session() as session:  # the segment's cases depend on the day: at NOW there are two to dial
        assert change_status(session, create_campaign(session, spec(), actor="m").id, "start", actor="m",
                             now=NOW).status is CampaignStatus.RUNNING


def test_item_9_a_start_checks_again_what_an_older_campaign_row_names(store: Store) -> None:
    """A row written before these checks (or a pack or flow removed since) is refused at start, not dialled."""
    seed(store)
    with store.session() as session:
        flow = create_campaign(session, spec(name="old-flow", ivr_flow="collections"), actor="m").id
        place = create_campaign(session, spec(name="old-place"), actor="m")
        place.definition = {**place.definition, "segment": {**place.definition["segment"], "jurisdictions": ["ZZ"]}}
        session.execute(update(Campaign).where(Campaign.id == flow).values(ivr_flow="gone"))
        place_id = place.id
    for campaign_id, refusal in ((flow, UnknownIvrFlow), (place_id, UnknownJurisdiction)):
        with store.session() as session, pytest.raises(refusal):
            change_status(session, campaign_id, "start", actor="m", now=NOW)


def test_item_8_every_refusal_has_a_stable_error_id_and_status(store: Store) -> None:
    seed(store)
    with store.session() as session:
        campaign_id = create_campaign(session, spec(), actor="m").id
    refusals: list[tuple[CampaignError, int, str, dict]] = []  # type: ignore[type-arg]
    for attempt in (lambda s: create_campaign(s, spec(), actor="m"),
                    lambda s: create_campaign(s, spec(name=" "), actor="m"),
                    lambda s: create_campaign(s, spec(name="december", agent_group=None), actor="m"),
                    lambda s: find_campaign(s, "december"),
                    lambda s: change_status(s, 999, "start", actor="m", now=NOW),
                    lambda s: change_status(s, campaign_id, "pause", actor="m", now=NOW)):
        with store.session() as session, pytest.raises(CampaignError) as refused:
            attempt(session)
        error = refused.value
        refusals.append((type(error), error.status, error.error_id, error.details))
    assert refusals == [
        (CampaignExists, 409, "campaign_exists", {"name": "november"}),
        (InvalidCampaign, 400, "bad_campaign", {"field": "name"}),
        (InvalidCampaign, 400, "bad_campaign", {"field": "agent_group"}),
        (NoSuchCampaign, 404, "no_campaign", {"campaign": "december"}),
        (NoSuchCampaign, 404, "no_campaign", {"campaign": "999"}),
        (BadTransition, 409, "bad_transition", {"action": "pause", "state": "draft"}),
    ]
    assert all(issubclass(kind, ValueError) for kind, *_ in refusals)  # callers catching ValueError still do
