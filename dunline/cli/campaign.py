"""`dunline campaign create|start|pause|finish|status|list`: campaigns from the command line."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import typer
from rich.table import Table

from cases.dpd import DPD_BUCKETS
from dunline.cli.context import CliContext, console, enum_choice, fail

campaign_app = typer.Typer(help="Campaigns: a segment dialled under the rules.", no_args_is_help=True)
STRATEGY_HELP = "how the hopper ranks the cases it may dial: baseline (DPD × balance), propensity, propensity_besttime"
CHALLENGER_HELP = "a second strategy for a random share of the cases (champion/challenger); 'none' removes it"
SPLIT_HELP = "the challenger's share of the cases, between 0 and 1"


@campaign_app.command("create")
def create(ctx: typer.Context, name: str,
           dpd: list[str] = typer.Option([], help=f"days-past-due bucket(s): {', '.join(DPD_BUCKETS)}"),
           min_balance: Decimal | None = typer.Option(None), region: list[str] = typer.Option([]),
           product: list[str] = typer.Option([]), language: list[str] = typer.Option([]),
           jurisdiction: list[str] = typer.Option([]),
           mode_name: str = typer.Option("predictive", "--mode", metavar="MODE",
                                         callback=enum_choice("dialer.pacing.modes", "DialMode"),
                                         help="dial mode (a wrong one is refused with the list)"),
           group: str | None = typer.Option("collectors"),
           ivr: str | None = typer.Option(None, help="IVR flow (agentless campaigns, or transfers into the IVR)"),
           caller_id: str | None = typer.Option(None), abandon_target: float = typer.Option(0.03),
           hours: str | None = typer.Option(None, help="the floor's dialling hours, e.g. 09:00-20:00"),
           zone: str = typer.Option("Asia/Shanghai", help="the contact centre's time zone, for --hours"),
           strategy: str = typer.Option("baseline", help=STRATEGY_HELP),
           challenger: str | None = typer.Option(None, help=CHALLENGER_HELP),
           split: float = typer.Option(0.5, help=SPLIT_HELP)) -> None:
    """Create a draft campaign on a segment."""
    from campaigns.analytics.service import set_plan
    from campaigns.analytics.strategy import Plan
    from campaigns.service import CampaignError, CampaignSchedule, CampaignSpec, create_campaign, dialable_cases
    from cases.segments import Segment, UnknownBucket
    from dialer.pacing.modes import DialMode

    mode = DialMode(mode_name)
    cli: CliContext = ctx.obj
    actor = cli.act("campaign create")
    try:
        schedule = None
        if hours:
            start, _, end = hours.partition("-")
            schedule = CampaignSchedule.from_json({"start": start, "end": end, "zone": zone})
        plan = Plan(strategy, challenger, split)
        segment = Segment(dpd=tuple(dpd), min_balance=min_balance, regions=tuple(region), products=tuple(product),
                          languages=tuple(language), jurisdictions=tuple(jurisdiction))
        with cli.migrated_store().session() as session:
            campaign = create_campaign(session, CampaignSpec(
                name, segment, mode, None if mode is DialMode.AGENTLESS else group, ivr, caller_id, abandon_target,
                schedule=schedule), actor=actor)
            set_plan(session, campaign, plan, actor=actor)
            cases, dialable = dialable_cases(session, segment, datetime.now(timezone.utc))
            console.print(f"campaign {campaign.id} {name!r} created (draft, {mode.value}), "
                          f"{cases} cases in its segment, {dialable} with an active phone")
            if not dialable:
                console.print("[yellow]warning:[/yellow] nothing to dial yet: `campaign start` refuses until the "
                              "segment holds a case with an active phone (widen it or import cases)")
    except (CampaignError, UnknownBucket) as error:
        raise fail(str(error)) from None


@campaign_app.command("update")
def update(ctx: typer.Context, campaign: str, strategy: str | None = typer.Option(None, help=STRATEGY_HELP),
           challenger: str | None = typer.Option(None, help=CHALLENGER_HELP),
           split: float | None = typer.Option(None, help=SPLIT_HELP)) -> None:
    """Change a campaign's strategy option; what is not given stays as it is. A running campaign takes it at
    its next start."""
    from campaigns.analytics.service import set_plan
    from campaigns.analytics.strategy import Plan
    from campaigns.service import CampaignError, find_campaign

    cli: CliContext = ctx.obj
    actor = cli.act("campaign create")
    try:
        with cli.migrated_store().session() as session:
            found = find_campaign(session, campaign)
            now = Plan.from_definition(found.definition)
            kept = None if challenger == "none" else challenger or now.challenger
            plan = Plan(strategy or now.strategy, kept, now.split if split is None else split)
            set_plan(session, found, plan, actor=actor)
            arms = f", challenger {plan.challenger} on {plan.split:.0%} of cases" if plan.challenger else ""
            console.print(f"campaign {found.name!r}: strategy {plan.strategy}{arms}")
    except CampaignError as error:
        raise fail(str(error)) from None


def _move(ctx: typer.Context, campaign: str, action: str) -> None:
    from campaigns.service import CampaignError, change_status, find_campaign

    cli: CliContext = ctx.obj
    actor = cli.act("campaign move")
    try:
        with cli.migrated_store().session() as session:
            moved = change_status(session, find_campaign(session, campaign).id, action, actor=actor)
            console.print(f"campaign {moved.name!r} is {moved.status.value}")
    except CampaignError as error:
        raise fail(str(error)) from None


@campaign_app.command("start")
def start(ctx: typer.Context, campaign: str) -> None:
    """Start (or resume) a campaign."""
    _move(ctx, campaign, "start")


@campaign_app.command("pause")
def pause(ctx: typer.Context, campaign: str) -> None:
    _move(ctx, campaign, "pause")


@campaign_app.command("finish")
def finish(ctx: typer.Context, campaign: str) -> None:
    _move(ctx, campaign, "finish")


@campaign_app.command("status")
def status(ctx: typer.Context, campaign: str) -> None:
    """Where a campaign stands: attempts by outcome, calls in flight, abandon rate."""
    from campaigns.service import CampaignError, campaign_report, find_campaign, segment_from_json
    from cases.segments import count_cases

    cli: CliContext = ctx.obj
    try:
        with cli.migrated_store().session() as session:
            found = find_campaign(session, campaign)
            report = campaign_report(session, found)
            cases = count_cases(session, segment_from_json(found.definition["segment"]),
                                datetime.now(timezone.utc).date())
    except CampaignError as error:
        raise fail(str(error)) from None
    table = Table(title=f"{report.name}: {report.status}, {report.dial_mode}, {cases} cases in segment")
    table.add_column("outcome")
    table.add_column("attempts", justify="right")
    for outcome, count in sorted(report.outcomes.items()):
        table.add_row(outcome, str(count))
    console.print(table)
    console.print(f"in flight {report.in_flight}; live answers {report.live_answers}; "
                  f"abandon rate {report.abandon_rate:.2%}")


@campaign_app.command("list")
def list_campaigns(ctx: typer.Context) -> None:
    from sqlalchemy import select

    from cases.models import Campaign

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        rows = session.scalars(select(Campaign).order_by(Campaign.id)).all()
        table = Table("id", "name", "status", "mode", "group", "created")
        for row in rows:
            table.add_row(str(row.id), row.name, row.status.value, row.dial_mode, row.agent_group or "-",
                          f"{row.created_at:%Y-%m-%d %H:%M}")
    console.print(table)


def parse_at(value: str) -> datetime:
    """`--at` as an aware UTC instant. A time written without an offset is UTC, as the option's help says and
    `run` shows, never the machine's local zone (the gates judge calling hours by it)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        problem = str(error) if "Invalid isoformat" not in str(error) else "not an ISO 8601 date and time"
        raise typer.BadParameter(f"{value!r}: {problem}, e.g. 2026-11-30T10:30+08:00", param_hint="'--at'") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@campaign_app.command("run")
def run(ctx: typer.Context, campaign: str,
        simulated: bool = typer.Option(True, "--simulated/--live", help="the PSTN simulator and agent bots"),
        seconds: float = typer.Option(60.0, min=1.0), agents: int = typer.Option(5, min=1),
        rude_agents: int = typer.Option(1, min=0, help="agent bots that threaten (screening finds them)"),
        at: datetime | None = typer.Option(None, parser=parse_at, metavar="ISO-8601",
                                          help="simulated wall clock for the gates, e.g. 2026-11-30T10:30+08:00; "
                                               "without an offset it is UTC (default: now)"),
        transcribe: bool = typer.Option(True, help="transcribe and screen each answered call (the settings' "
                                                   "transcription workers)"),
        seed: int = typer.Option(1)) -> None:
    """Run a running campaign on a simulated floor: the server `dunline serve` runs, hosting this campaign alone,
    with the PSTN simulator as its trunk's far end and agent bots as phones. Takes the campaign's lease,
    closes what a dead run left in flight, dials with a live dashboard, then waits for its calls to be
    transcribed and screened."""
    import uvloop

    from campaigns.lease import CampaignLease, LeaseHeld, new_owner
    from campaigns.recovery import close_interrupted
    from campaigns.service import CampaignError, find_campaign
    from cases.models import CampaignStatus
    from dunline.campaign_floor import AFTERCALL_WAIT_S, FloorPlan, run_simulated
    from dunline.cli.transcribe import redis_url
    from dunline.clock import shifted_clock
    from dunline.dashboard import Dashboard

    cli: CliContext = ctx.obj
    if not simulated:
        raise fail("live campaigns run inside `dunline serve`; use --simulated here")
    if at is not None:
        console.print(f"simulated clock from {at.isoformat()}")
    store = cli.migrated_store()
    clock = shifted_clock(at)
    try:
        with store.session() as session:
            found = find_campaign(session, campaign)
            if found.status is not CampaignStatus.RUNNING:
                raise CampaignError(f"campaign {found.name!r} is {found.status.value}; start it first")
            session.expunge(found)
    except CampaignError as error:
        raise fail(str(error)) from None
    lease = CampaignLease(store, found.id, new_owner())  # the server's host runs the campaign as this owner
    try:
        lease.acquire()
    except LeaseHeld as error:
        raise fail(f"{error}; one runner per campaign") from None
    try:
        interrupted = close_interrupted(store, clock(), lease=(found.id, lease.owner))
        if interrupted:
            console.print(f"closed {len(interrupted)} attempt(s) left in flight by an earlier run as interrupted")
        dashboard = Dashboard(console, found.name, seconds)
        plan = FloorPlan(agents=agents, rude_agents=rude_agents, seconds=seconds, seed=seed, transcribe=transcribe)

        def waiting(count: int) -> None:
            console.print(f"dialling stopped; waiting (at most {AFTERCALL_WAIT_S:.0f} s) for {count} call(s) to "
                          f"be transcribed and screened")
        with redis_url(cli.settings) as url, dashboard:
            summary = uvloop.run(run_simulated(cli.settings, store, found, plan, redis_url=url, clock=clock,
                                               owner=lease.owner, on_runner=dashboard.follow, on_wait=waiting))
    finally:
        lease.release()
    console.print(f"dials {summary.dials}, connected {summary.connected}, abandoned {summary.abandoned}, "
                  f"promises {summary.promises}; "
                  f"simulated clock {'from ' + at.isoformat() if at else 'real time'}")
