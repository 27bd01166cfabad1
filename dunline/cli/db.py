"""`dunline db`: schema migrations."""

from __future__ import annotations

import typer

from dunline.cli.context import CliContext, console

app = typer.Typer(help="Case store schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: newest); the first time, generate the installation's secrets
    and its master key."""
    from cases import migrate
    from crypto import ensure_key_file
    from dunline.installation import ensure_secrets, master_keys

    cli: CliContext = ctx.obj
    keys = master_keys(cli.settings.data_dir)
    key_written = None if keys.from_environment else ensure_key_file(keys.path)
    migrate.upgrade(cli.store.engine, revision)
    console.print(f"schema at revision [bold]{migrate.current_revision(cli.store.engine)}[/bold] ({cli.store.backend})")
    if (written := ensure_secrets(cli.settings.data_dir)) is not None:
        console.print(f"generated this installation's secrets into {written} (owner-only)")
    if key_written is not None:
        console.print(f"generated this installation's master key into {key_written} (owner-only; back it up apart "
                      "from the data: recordings, transcripts and personal columns cannot be read without it)")


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
