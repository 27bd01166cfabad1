"""The campaign manager's and supervisor's pages, and the segment builder's live count.

Pages (`console.pages.render`; roles in `console.access`): `/campaigns` (every campaign with its status, key
figures and the start / pause / finish its status allows), `/campaigns/new` (the segment builder and the
campaign's settings), `/campaigns/{campaign}` (one campaign: settings, segment, figures and an outcome chart
drawn on the server as SVG) and `/wallboard` (filled by `static/wallboard.js` from the wallboard socket).
The pages change nothing themselves: their buttons call the JSON API (`console/campaigns.py`,
`console/supervisor.py`) from `static/campaigns.js` and `static/wallboard.js`.

`GET /api/segments/count?dpd=31-60&region=CA&min_balance=100...` (the query of `/api/cases`,
`console.segments`): how many cases the segment holds and how many of them a campaign could dial (their
debtor has an active phone), at the API's clock — the count a start is checked against
(`campaigns.service.change_status`), so a builder showing zero dialable tells the manager before the start
is refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from campaigns.desk import AgentDesk
from campaigns.errors import NoSuchCampaign
from campaigns.host import CampaignHost
from campaigns.service import (
    MAX_ABANDON_TARGET,
    TRANSITIONS,
    CampaignReport,
    campaign_report,
    dialable_cases,
    find_campaign,
    known_flows,
    known_jurisdictions,
    schedule_of,
    segment_from_json,
)
from cases.dpd import DPD_BUCKETS
from cases.models import Campaign, Product
from console.access import CAMPAIGN_WRITERS, FLOOR_WATCHERS, acting_user
from console.campaigns import ACTIONS, MAX_CAMPAIGN_ID
from console.common import ClockKey, StoreKey
from console.pages import render
from console.segments import segment_from_query
from console.supervisor import add_supervisor_routes
from console.wallboard import add_wallboard_routes
from dialer.pacing.modes import DialMode

CHART_WIDTH = 400  # the outcome chart's longest bar, in SVG user units
MODES = {DialMode.PREVIEW: ("预览", "preview"), DialMode.PROGRESSIVE: ("渐进式", "progressive"),
         DialMode.POWER: ("功率式", "power"), DialMode.PREDICTIVE: ("预测式", "predictive"),
         DialMode.AGENTLESS: ("无坐席（IVR）", "agentless (IVR)")}
PRODUCTS = {Product.CREDIT_CARD: ("信用卡", "credit card"), Product.CONSUMER_LOAN: ("消费贷", "consumer loan"),
            Product.AUTO_LOAN: ("车贷", "auto loan"), Product.MORTGAGE: ("房贷", "mortgage"),
            Product.MICROLOAN: ("小额贷", "microloan"), Product.BNPL: ("先买后付", "buy now, pay later"),
            Product.UTILITY: ("公用事业", "utility"), Product.TELECOM: ("电信", "telecom"),
            Product.OTHER: ("其他", "other")}
STATUSES = {"draft": ("草稿", "draft"), "running": ("运行中", "running"), "paused": ("已暂停", "paused"),
            "finished": ("已结束", "finished")}
SEGMENT_FIELDS = {"dpd": ("逾期天数", "days past due"), "min_balance": ("最低余额", "minimum balance"),
                  "max_balance": ("最高余额", "maximum balance"), "regions": ("地区", "regions"),
                  "products": ("产品", "products"), "languages": ("语言", "languages"),
                  "jurisdictions": ("司法辖区", "jurisdictions"), "statuses": ("账户状态", "account statuses"),
                  "creditors": ("债权人", "creditors"),
                  "not_contacted_for_days": ("未联系天数不少于", "not contacted for days"),
                  "contacted_within_days": ("最近联系天数以内", "contacted within days")}
ACTION_NAMES = {"start": ("开始", "Start"), "pause": ("暂停", "Pause"), "finish": ("结束", "Finish")}
OUTCOMES = {"in_flight": ("进行中", "in flight"), "answered": ("接通", "answered"), "abandoned": ("放弃", "abandoned"),
            "machine": ("答录机", "machine"), "busy": ("忙线", "busy"), "no_answer": ("无人接听", "no answer"),
            "rejected": ("拒接", "rejected"), "unavailable": ("不可用", "unavailable"),
            "invalid_number": ("空号", "invalid number"), "network_error": ("网络错误", "network error"),
            "cancelled": ("已取消", "cancelled"), "interrupted": ("中断", "interrupted")}


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    report: CampaignReport
    actions: tuple[str, ...]  # what its status allows, in `ACTIONS` order


@dataclass(frozen=True)
class Bar:
    outcome: str
    count: int
    width: int
    y: int


def actions_of(campaign: Campaign) -> tuple[str, ...]:
    return tuple(action for action in ACTIONS if (campaign.status, action) in TRANSITIONS)


def outcome_bars(outcomes: dict[str, int], row_height: int = 24) -> list[Bar]:
    """The outcome chart's bars, longest first, scaled so the most common outcome spans the chart."""
    most = max(outcomes.values(), default=0)
    ranked = sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))
    return [Bar(outcome, count, round(CHART_WIDTH * count / most) if most else 0, n * row_height)
            for n, (outcome, count) in enumerate(ranked)]


def _labels() -> dict[str, object]:
    return {"modes": MODES, "statuses": STATUSES, "action_names": ACTION_NAMES, "products": PRODUCTS,
            "outcome_names": OUTCOMES, "segment_fields": SEGMENT_FIELDS}


async def campaigns_page(request: web.Request) -> web.Response:
    store = request.app[StoreKey]

    def rows() -> list[CampaignRow]:
        with store.reading() as session:
            campaigns = session.scalars(select(Campaign).order_by(Campaign.id.desc())).all()
            return [CampaignRow(campaign, campaign_report(session, campaign), actions_of(campaign))
                    for campaign in campaigns]
    return await render(request, "campaigns.html", rows=await asyncio.to_thread(rows),
                        can_write=acting_user(request).role in CAMPAIGN_WRITERS, **_labels())


async def new_campaign_page(request: web.Request) -> web.Response:
    return await render(request, "campaign_new.html", buckets=list(DPD_BUCKETS), jurisdictions=known_jurisdictions(),
                        flows=known_flows(), default_target=MAX_ABANDON_TARGET, **_labels())


async def campaign_page(request: web.Request) -> web.Response:
    reference = request.match_info["campaign"]
    if reference.isdigit() and int(reference) > MAX_CAMPAIGN_ID:
        raise web.HTTPNotFound()
    store, now = request.app[StoreKey], request.app[ClockKey]()

    def load() -> tuple[CampaignRow, tuple[int, int]]:
        with store.reading() as session:
            campaign = find_campaign(session, reference)
            counts = dialable_cases(session, segment_from_json(campaign.definition["segment"]), now)
            return CampaignRow(campaign, campaign_report(session, campaign), actions_of(campaign)), counts
    try:
        row, (cases, dialable) = await asyncio.to_thread(load)
    except NoSuchCampaign:
        raise web.HTTPNotFound() from None
    segment = {key: value for key, value in row.campaign.definition.get("segment", {}).items()
               if value not in (None, [], "")}
    return await render(request, "campaign.html", row=row, segment=segment, schedule=schedule_of(row.campaign),
                        cases=cases, dialable=dialable, bars=outcome_bars(row.report.outcomes),
                        chart_width=CHART_WIDTH, can_write=acting_user(request).role in CAMPAIGN_WRITERS,
                        **_labels())


async def wallboard_page(request: web.Request) -> web.Response:
    return await render(request, "wallboard.html", can_force=acting_user(request).role in FLOOR_WATCHERS,
                        **_labels())


async def segment_count(request: web.Request) -> web.Response:
    segment = segment_from_query(request.query)
    store, now = request.app[StoreKey], request.app[ClockKey]()

    def count() -> tuple[int, int]:
        with store.reading() as session:
            return dialable_cases(session, segment, now)
    cases, dialable = await asyncio.to_thread(count)
    return web.json_response({"cases": cases, "dialable": dialable})


def add_manager_routes(app: web.Application, *, desk: AgentDesk | None, host: CampaignHost | None) -> None:
    """The campaign manager's and the supervisor's routes: these pages, the segment count, the wallboard
    (`console.wallboard`) and the hand on an agent's desk (`console.supervisor`)."""
    app.router.add_get("/campaigns", campaigns_page)
    app.router.add_get("/campaigns/new", new_campaign_page)  # before /campaigns/{campaign}, which would take it
    app.router.add_get("/campaigns/{campaign}", campaign_page)
    app.router.add_get("/wallboard", wallboard_page)
    app.router.add_get("/api/segments/count", segment_count)
    add_wallboard_routes(app, desk=desk, host=host)
    add_supervisor_routes(app)
