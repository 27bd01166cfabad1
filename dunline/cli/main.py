"""The `dunline` command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from dunline.cli import (admin, campaign, cases, compliance, db, keys, retention, screen, serve, simulate, transcribe,
                         worker)
from dunline.cli import assign, library, subjects
from dunline.cli import messages
from dunline.cli import reports
from dunline.cli import analytics
from dunline.cli import payments
from dunline.cli import reminders
from dunline.cli import node
from dunline.cli.context import CliContext, errors, fail


class DunlineApp(typer.Typer):
    """The `dunline` command as the console script runs it: a key problem (no master key, a key that is missing
    or does not open the data, a value failing its seal) is told in one line naming what is wrong and where the
    key goes, with exit status 1, instead of a traceback: whichever command met it, the operator's fix is the same."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as error:
            from crypto.errors import CryptoError

            if not isinstance(error, CryptoError):
                raise
            errors.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True, highlight=False)
            sys.exit(1)


app = DunlineApp(help="Dunline: telephony and voice automation for debt collection.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
app.add_typer(db.app, name="db")
app.add_typer(cases.cases_app, name="cases")
app.add_typer(cases.import_app, name="import")
app.add_typer(admin.audit_app, name="audit")
admin.audit_app.command("access")(subjects.audit_access)
app.add_typer(library.library_app, name="library")
app.add_typer(subjects.subject_app, name="subject")
app.add_typer(admin.config_app, name="config")
app.add_typer(admin.users_app, name="users")
app.add_typer(compliance.holds_app, name="holds")
app.add_typer(compliance.dnc_app, name="dnc")
app.add_typer(compliance.gate_app, name="gate")
app.add_typer(simulate.simulate_app, name="simulate")
app.add_typer(campaign.campaign_app, name="campaign")
app.add_typer(node.node_app, name="node")
app.command("why")(compliance.why)
app.command("demo-data")(admin.demo_data)
app.command("serve")(serve.serve)
app.command("transcribe")(transcribe.transcribe)
app.command("worker")(worker.worker)
app.command("screen")(screen.screen)
app.add_typer(screen.findings_app, name="findings")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(payments.payments_app, name="payments")
app.add_typer(payments.promises_app, name="promises")
app.add_typer(payments.plans_app, name="plans")
app.add_typer(retention.retention_app, name="retention")
app.add_typer(messages.message_app, name="message")
app.add_typer(reminders.reminders_app, name="reminders")
assign.register(app)  # assign, queue, templates
app.add_typer(reports.report_app, name="report")
app.add_typer(analytics.analytics_app, name="analytics")


@app.callback()
def main(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", envvar="DUNLINE_CONFIG", help="TOML settings file"),
    user: str | None = typer.Option(None, "--user", help="operator to sign in as at the password prompt "
                                      "(default: DUNLINE_USER); never believed alone: see DUNLINE_TOKEN"),
) -> None:
    from pydantic import ValidationError

    from dunline.installation import private_files
    from dunline.settings import load_settings

    private_files()
    try:
        settings = load_settings(config, **({"user": user} if user else {}))
    except (ValidationError, FileNotFoundError, ValueError) as error:
        raise fail(f"bad settings: {error}") from None
    cli = CliContext(settings)
    ctx.obj = cli
    ctx.call_on_close(cli.close)

