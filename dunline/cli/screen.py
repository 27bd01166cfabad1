"""`dunline screen` and `dunline findings`: transcript screening from the command line, and its review queue."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, enum_choice, errors, fail

if TYPE_CHECKING:
    from compliance.screening import CallContext, Utterance

findings_app = typer.Typer(help="Screening findings: the review queue.", no_args_is_help=True)


def _utterances(path: Path) -> list[Utterance]:
    from compliance.screening import Utterance

    rows: list[Utterance] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            rows.append(Utterance(str(raw["id"]), str(raw["text"]), str(raw.get("lang", "")), str(raw.get("speaker", "")),
                                  raw.get("start_s"), raw.get("end_s")))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise fail(f"{path}:{number}: expected {{\"id\", \"text\", \"lang\", \"speaker\"}} ({error})") from None
    return rows


def _call_context(cli: CliContext, attempt_id: int) -> CallContext:
    from compliance.screening import ScreeningError, call_context

    with cli.migrated_store().reading() as session:
        try:
            return call_context(session, attempt_id)
        except ScreeningError as error:
            raise fail(str(error)) from None


def _write(out: TextIO, lines: list[dict]) -> None:  # type: ignore[type-arg]
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def screen(
    ctx: typer.Context,
    input: Path = typer.Option(..., "--input", exists=True, dir_okay=False, help="JSON lines {id, text, lang, speaker[, start_s, end_s]}"),
    output: Path | None = typer.Option(None, "--output", help="write the verdicts here instead of standard output"),
    call: int | None = typer.Option(None, "--call", help="the file is this attempt's transcript: check disclosures, save findings, place holds"),
    lexicons_only: bool = typer.Option(False, "--lexicons-only", help="skip the learned layer (no model load)"),
) -> None:
    """Screen utterances for prohibited collection practices, cease requests and disputes: one verdict per line."""
    from compliance.screening import CallContext, Screener, ScreeningError, record_screening

    cli: CliContext = ctx.obj
    actor = cli.act("screen call") if call is not None else ""
    utterances = _utterances(input)
    screener = Screener.load(learned=not lexicons_only)
    context = _call_context(cli, call) if call is not None else CallContext()
    screening = screener.screen_call(utterances, context)
    if output is None:
        _write(sys.stdout, [v.to_json() for v in screening.verdicts])
    else:
        with output.open("w", encoding="utf-8") as out:
            _write(out, [v.to_json() for v in screening.verdicts])
    flagged = sum(v.flagged for v in screening.verdicts)
    errors.print(f"{len(utterances)} utterances, {flagged} flagged ({screener.ruleset})", highlight=False)
    if call is None:
        return
    with cli.migrated_store().session() as session:
        try:
            rows = record_screening(session, attempt_id=call, screening=screening, policies=screener.policies,
                                    actor=actor)
        except ScreeningError as error:
            raise fail(str(error)) from None
        holds = sorted({r.hold_id for r in rows if r.hold_id})
        missing = [f.source for f in screening.findings if f.utterance_id is None]
    errors.print(f"attempt {call}: {len(rows)} findings saved"
                 + (f", holds {holds}" if holds else "") + (f", missing: {', '.join(missing)}" if missing else ""))


@findings_app.command("list")
def findings_list(ctx: typer.Context, limit: int = typer.Option(50)) -> None:
    """Calls with open findings, gravest first, then longest waiting."""
    from compliance.screening import agent_names, flagged_calls

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        calls = flagged_calls(session, limit=limit)
        names = agent_names(session, (c.agent_id for c in calls))
    table = Table("attempt", "account", "agent", "severity", "categories", "open", "flagged at")
    for c in calls:
        table.add_row(str(c.attempt_id), str(c.account_id), names.get(c.agent_id or 0, "-"), c.severity.label,
                      ", ".join(x.value for x in c.categories), str(c.open_findings), f"{c.flagged_at:%Y-%m-%d %H:%M}")
    console.print(table)


@findings_app.command("show")
def findings_show(ctx: typer.Context, attempt_id: int) -> None:
    """A call's findings in audio order, with speaker, time and excerpt."""
    from compliance.screening import call_findings

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        rows = call_findings(session, attempt_id)
    table = Table("id", "status", "category", "severity", "speaker", "time", "excerpt")
    for r in rows:
        at = f"{r.start_s:.1f}-{r.end_s:.1f}s" if r.start_s is not None and r.end_s is not None else "call"
        excerpt = r.excerpt if r.span_start is None else (
            r.excerpt[:r.span_start] + "[" + r.excerpt[r.span_start:r.span_end] + "]" + r.excerpt[r.span_end:])
        table.add_row(str(r.id), r.status.value, r.category, r.severity, r.speaker, at, excerpt)
    console.print(table, markup=False)


@findings_app.command("decide")
def findings_decide(ctx: typer.Context, finding_id: int,
                    decision_name: str = typer.Option(..., "--decision", metavar="DECISION",
                                                      callback=enum_choice("compliance.screening", "Decision"),
                                                      help="the reviewer's decision (a wrong one is refused with "
                                                           "the list)"),
                    note: str | None = typer.Option(None)) -> None:
    """Record a reviewer's decision on a finding (audited)."""
    from compliance.screening import Decision, ScreeningError, review_finding

    decision = Decision(decision_name)
    cli: CliContext = ctx.obj
    actor = cli.act("findings decide")
    with cli.migrated_store().session() as session:
        try:
            review_finding(session, finding_id, reviewer=actor, decision=decision, note=note)
        except ScreeningError as error:
            raise fail(str(error)) from None
    console.print(f"finding {finding_id}: {decision.value}")


@findings_app.command("agents")
def findings_agents(ctx: typer.Context) -> None:
    """Per agent, findings reviewers confirmed or sent to coaching."""
    from compliance.screening import agent_names, agent_report

    cli: CliContext = ctx.obj
    with cli.migrated_store().session() as session:
        tallies = agent_report(session)
        names = agent_names(session, (t.agent_id for t in tallies))
    table = Table("agent", "category", "confirmed", "needs coaching")
    for t in tallies:
        table.add_row(names.get(t.agent_id or 0, "-"), t.category.value, str(t.confirmed), str(t.needs_coaching))
    console.print(table)
