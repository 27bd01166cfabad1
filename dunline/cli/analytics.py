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
        raise fail(f"--as-of {text!r} is not a date YYYY-MM-DD") from None


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
def compare(ctx: typer.Context, campaign: int) -> None:
    """Champion against challenger: collected per case of each arm and the 95% interval of the difference."""
    from campaigns.analytics import service

    cli: CliContext = ctx.obj
    cli.act("analytics")
    try:
        c = service.compare(cli.store, campaign)
    except ValueError as error:
        raise fail(str(error)) from None
    console.print(f"campaign {campaign}: champion {c.champion_mean:.2f}, challenger {c.challenger_mean:.2f} per case; "
                  f"difference {c.difference:+.2f} (95% {c.low:+.2f} to {c.high:+.2f})"
                  f"{', significant' if c.significant else ''}")
