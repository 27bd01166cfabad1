"""`dunline analytics train|evaluate|explain`: the propensity-to-pay model (campaigns.analytics)."""

from __future__ import annotations

import json
from datetime import date

import typer

from dunline.cli.context import CliContext, console, fail

analytics_app = typer.Typer(help="分析 Analytics: propensity to pay, its evaluation and explanations.",
                            no_args_is_help=True)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a date YYYY-MM-DD") from None


@analytics_app.command()
def train(ctx: typer.Context, as_of: str = typer.Option(..., help="history up to this day, YYYY-MM-DD")) -> None:
    """Train a new model version from the case store and store its evaluation beside it."""
    from campaigns.analytics import service

    cli: CliContext = ctx.obj
    cli.act("analytics")
    try:
        path, evaluation = service.train(cli.store, cli.settings.data_dir, _day(as_of))
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"model {path.name} at {path}: AUC {evaluation['auc']:.3f}, Brier {evaluation['brier']:.3f}")


@analytics_app.command()
def evaluate(ctx: typer.Context) -> None:
    """The latest model's stored evaluation as JSON."""
    from campaigns.analytics import registry

    cli: CliContext = ctx.obj
    cli.act("analytics")
    try:
        _, evaluation = registry.load(registry.latest(cli.settings.data_dir))
    except FileNotFoundError as error:
        raise fail(str(error)) from None
    console.print_json(json.dumps(evaluation))


@analytics_app.command()
def explain(ctx: typer.Context, account: int, as_of: str = typer.Option(..., help="features as of, YYYY-MM-DD")) -> None:
    """An account's score and each feature's contribution to its log-odds."""
    from campaigns.analytics import service

    cli: CliContext = ctx.obj
    cli.act("analytics")
    try:
        score, parts = service.explain(cli.store, cli.settings.data_dir, account, _day(as_of))
    except (FileNotFoundError, ValueError) as error:
        raise fail(str(error)) from None
    console.print(f"account {account}: propensity {score:.3f}")
    for name, value in parts:
        console.print(f"  {name:<24} {value:+.3f}")


@analytics_app.command()
def compare(ctx: typer.Context, campaign: int,
            from_: str = typer.Option("2000-01-01", "--from", help="first day, YYYY-MM-DD"),
            to: str | None = typer.Option(None, help="last day, YYYY-MM-DD (default: today)")) -> None:
    """Champion against challenger, by the arm on each attempt: collected per case of each arm and the 95% Welch
    interval of the difference (the `strategy` report of campaigns.reports.arms)."""
    from campaigns.reports.arms import strategy
    from campaigns.reports.grouping import Window

    cli: CliContext = ctx.obj
    cli.act("analytics")
    window = Window(_day(from_), _day(to) if to else date.today())
    with cli.store.engine.connect() as connection:
        rows = [r for r in strategy(connection, window).records() if r["campaign"] == campaign]
    if not rows:
        raise fail(f"campaign {campaign} has no attempt with an arm from {window.first} to {window.last}")
    for r in rows:
        console.print(f"campaign {campaign} {r['arm']}: {r['cases']} cases, {r['dials']} dials, "
                      f"RPC/1000 {r['rpc_per_1000_dials']}, collected {r['collected']} "
                      f"({r['collected_per_case']} per case)")
        if r["difference"] is not None:
            significant = r["low"] > 0 or r["high"] < 0
            console.print(f"  challenger minus champion {r['difference']:+.2f} per case "
                          f"(95% {r['low']:+.2f} to {r['high']:+.2f}){', significant' if significant else ''}")
