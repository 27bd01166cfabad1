"""`dunline assign`, `dunline queue`, `dunline tasks`, `dunline templates`: case assignment, work queues, agents'
escalation tasks and script/message templates (话术模板) from the command line; each command calls its service in
`campaigns`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from dunline.cli.context import CliContext, console, fail

assign_app = typer.Typer(help="Assign cases to teams and agents by the rules (campaigns/assignment.yaml).",
                         no_args_is_help=True)
queue_app = typer.Typer(help="Agents' work queues.", no_args_is_help=True)
templates_app = typer.Typer(help="Script and message templates (话术模板).", no_args_is_help=True)
tasks_app = typer.Typer(help="Agents' escalation tasks, opened by the reminder strategy's task steps.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(assign_app, name="assign")
    app.add_typer(queue_app, name="queue")
    app.add_typer(templates_app, name="templates")
    app.add_typer(tasks_app, name="tasks")


def _words(value: str | None) -> list[str] | None:
    return None if value is None else [word.strip() for word in value.split(",") if word.strip()]


@assign_app.command("run")
def assign_run(ctx: typer.Context, dry_run: bool = typer.Option(False, "--dry-run", help="decide, write nothing"),
               rules_file: Path | None = typer.Option(None, "--rules", exists=True, dir_okay=False,
                                                      help="another rules file (default: the shipped one)")) -> None:
    """Assign every open case; a case whose decision stands is left alone, every change is audited."""
    from campaigns import assignment
    from campaigns.assignment_rules import RuleError, load_rules
    from cases.models import utcnow

    cli: CliContext = ctx.obj
    actor = cli.act("assign run")
    try:
        rules = load_rules(rules_file) if rules_file else load_rules()
    except RuleError as error:
        raise fail(str(error)) from None
    report = assignment.run(cli.migrated_store(), actor=actor, now=utcnow(), dry_run=dry_run, rules=rules)
    table = Table("place (agent or pool)", "cases", title=f"rules {report.rules_version}")
    for place, count in sorted(report.by_place.items()):
        table.add_row(place, str(count))
    console.print(table)
    console.print(f"{report.cases} cases, {len(report.changes)} changed"
                  + (" - dry run, nothing written" if dry_run else ""))


@assign_app.command("show")
def assign_show(ctx: typer.Context, agent: str | None = typer.Option(None, help="only this agent's cases"),
                limit: int = typer.Option(200, min=1, max=10_000)) -> None:
    """The current assignments: account, agent or pool, team, the rule that decided."""
    from campaigns import assignment

    cli: CliContext = ctx.obj
    table = Table("account", "agent", "team", "pool", "rule", "reason", "since")
    for row in assignment.assignments(cli.migrated_store(), agent=agent, limit=limit):
        table.add_row(row["account_ref"], row["agent"] or "-", row["team"] or "-", row["pool"] or "-",
                      row["rule"] or "-", row["reason"], row["assigned_at"][:16])
    console.print(table)


@assign_app.command("agent")
def assign_agent(ctx: typer.Context, name: str,
                 team: str | None = typer.Option(None, help="the agent's team (created on first use)"),
                 skills: str | None = typer.Option(None, help="comma-separated skills, e.g. pre_legal,english"),
                 languages: str | None = typer.Option(None, help="comma-separated languages: zh,en"),
                 absent: bool | None = typer.Option(None, "--absent/--present",
                                                    help="mark the agent absent (their cases go to the team on the "
                                                         "next run) or back")) -> None:
    """Set what an agent can take; what is not given stays. Audited."""
    from campaigns import assignment
    from cases.models import utcnow

    cli: CliContext = ctx.obj
    actor = cli.act("assign agent")
    try:
        profile = assignment.set_agent(cli.migrated_store(), name, actor=actor, now=utcnow(), team=team,
                                       skills=_words(skills), languages=_words(languages), absent=absent)
    except assignment.AssignmentError as error:
        raise fail(str(error)) from None
    console.print(f"{profile['agent']}: team {profile['team'] or '-'}, skills {', '.join(profile['skills']) or '-'}, "
                  f"languages {', '.join(profile['languages']) or '-'}" + (", absent" if profile["absent"] else ""))


@queue_app.command("show")
def queue_show(ctx: typer.Context, agent: str, limit: int = typer.Option(50, min=1, max=500)) -> None:
    """AGENT's cases, highest priority first, with their progress (names masked)."""
    from campaigns import queues
    from cases.models import utcnow

    cli: CliContext = ctx.obj
    items = queues.queue(cli.migrated_store(), agent, utcnow(), limit=limit)
    table = Table("account", "debtor", "creditor", "balance", "dpd", "priority", "progress", title=f"queue of {agent}")
    for item in items:
        table.add_row(item.account_ref, item.debtor, item.creditor, f"{item.currency} {item.balance}",
                      str(item.days_past_due), f"{item.score:,.0f}", item.progress.value)
    console.print(table)


@tasks_app.command("list")
def tasks_list(ctx: typer.Context, agent: str | None = typer.Option(None, help="only this agent's tasks"),
               status: str = typer.Option("open", help="open, done or any"),
               limit: int = typer.Option(200, min=1, max=10_000)) -> None:
    """Escalation tasks, oldest first: the agent (or pool) each waits with, the rule that opened it."""
    from campaigns import tasks
    from cases.models import TaskStatus

    cli: CliContext = ctx.obj
    if status not in (*TaskStatus, "any"):
        raise fail(f"--status: one of open, done, any; not {status!r}")
    found = tasks.tasks(cli.migrated_store(), agent=agent, status=None if status == "any" else TaskStatus(status),
                        limit=limit)
    table = Table("id", "account", "rule", "due date", "stage", "agent or pool", "status", "opened")
    for task in found:
        table.add_row(str(task.id), task.account_ref, task.rule, task.due_date.isoformat(), task.stage,
                      task.agent or task.pool or "-", task.status.value, task.created_at.isoformat()[:16])
    console.print(table)


@tasks_app.command("close")
def tasks_close(ctx: typer.Context, task_id: int = typer.Argument(..., min=1),
                note: str | None = typer.Option(None, help="what was done")) -> None:
    """Close TASK_ID as done (audited)."""
    from campaigns import tasks
    from campaigns.errors import NoSuchTask
    from cases.models import utcnow

    cli: CliContext = ctx.obj
    actor = cli.act("tasks close")
    try:
        task = tasks.close(cli.migrated_store(), task_id, actor=actor, at=utcnow(), note=note)
    except NoSuchTask as error:
        raise fail(str(error)) from None
    console.print(f"task {task.id} ({task.account_ref}, {task.rule}): {task.status.value}")


@templates_app.command("list")
def templates_list(ctx: typer.Context, channel: str | None = typer.Option(None, help="script, sms or email")) -> None:
    """The template in use for each stage, channel and language (version 0: built in)."""
    from campaigns import templates_store

    cli: CliContext = ctx.obj
    with cli.migrated_store().reading() as session:
        found = templates_store.in_use(session)
    table = Table("id", "stage", "channel", "language", "version", "text")
    for (stage, kind, lang), template in sorted(found.items()):
        if channel is None or kind == channel:
            table.add_row(str(template.id or "-"), stage, kind, lang, str(template.version),
                          template.body.splitlines()[0][:60])
    console.print(table)


@templates_app.command("show")
def templates_show(ctx: typer.Context, stage: str, channel: str, language: str) -> None:
    """Every version of one template, newest first."""
    from campaigns import templates_store

    cli: CliContext = ctx.obj
    with cli.migrated_store().reading() as session:
        found = templates_store.versions(session, (stage, channel, language))
    if not found:
        raise fail(f"no {channel} template for stage {stage} in {language}")
    for template in found:
        console.print(f"[bold]version {template.version}[/bold]" + (" (built in)" if not template.version else
                                                                       f" by {template.created_by}"))
        if template.subject:
            console.print(f"subject: {template.subject}", markup=False, highlight=False)
        console.print(template.body, markup=False, highlight=False)


@templates_app.command("add")
def templates_add(ctx: typer.Context, stage: str, channel: str, language: str,
                  body_file: Path = typer.Option(..., "--body", exists=True, dir_okay=False,
                                                 help="UTF-8 text file holding the template; {variables} allowed"),
                  subject: str | None = typer.Option(None, help="e-mail subject")) -> None:
    """Save the next version of a template: refused, naming it, for an unknown variable, and, with the finding,
    when the screener flags a threat, a false legal claim, harassment or a third-party disclosure. Audited."""
    from campaigns import templates_store
    from campaigns.templates import Template, TemplateError
    from compliance.screening import Screener

    cli: CliContext = ctx.obj
    actor = cli.act("templates add")
    template = Template(stage, channel, language, body_file.read_text(encoding="utf-8"), subject)
    try:
        with cli.migrated_store().session() as session:
            saved = templates_store.save(session, template, screener=Screener.load(), actor=actor)
    except TemplateError as error:
        raise fail(str(error)) from None
    console.print(f"template {saved.id}: {stage}/{channel}/{language} version {saved.version} saved")
