"""`dunline db`: schema migrations."""

from __future__ import annotations

import typer

from dunline.cli.context import CliContext, console

app = typer.Typer(help="Case store schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: newest); the first time, generate the installation's secrets."""
    from cases import migrate
    from dunline.installation import ensure_secrets

    cli: CliContext = ctx.obj
    migrate.upgrade(cli.store.engine, revision)
    console.print(f"schema at revision [bold]{migrate.current_revision(cli.store.engine)}[/bold] ({cli.store.backend})")
    if (written := ensure_secrets(cli.settings.data_dir)) is not None:
        console.print(f"generated this installation's secrets into {written} (owner-only)")


@app.command()
def downgrade(ctx: typer.Context, revision: str = typer.Argument(..., help="target revision, or 'base'")) -> None:
    """Revert migrations down to REVISION."""
    from cases import migrate

    cli: CliContext = ctx.obj
    migrate.downgrade(cli.store.engine, revision)
    console.print(f"schema at revision [bold]{migrate.current_revision(cli.store.engine) or 'base'}[/bold]")


@app.command()
def current(ctx: typer.Context) -> None:
    """Show the current and newest revision."""
    from cases import migrate

    cli: CliContext = ctx.obj
    console.print(f"current: {migrate.current_revision(cli.store.engine) or 'base'}  "
                  f"head: {migrate.head_revision(cli.store.engine)}")
