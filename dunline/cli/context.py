"""What every CLI command shares: settings, the case store, and who is acting.

Every `dunline.cli` module is imported to build `dunline --help`, so none of them imports a heavy stack
(SQLAlchemy, the telephony, speech or web packages) at module level: a command imports what it needs when it
runs (tests/dunline/test_cli_startup.py keeps it so). An option whose choices are an enum of a heavy module is
a plain string checked by `enum_choice` when the command runs.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from functools import cached_property
from importlib import import_module
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from cases import Store
    from dunline.identity import Acting
    from dunline.settings import Settings

console = Console(width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def enum_choice(module: str, name: str) -> Callable[[str | None], str | None]:
    """An option callback refusing a value that is not one of `module.name`'s, as typer does for an enum-typed
    option, but importing that enum only when a command runs (`--help` never does)."""
    def check(value: str | None) -> str | None:
        choices: type[Enum] = getattr(import_module(module), name)
        if value is not None and value not in {member.value for member in choices}:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(repr(m.value) for m in choices)}.")
        return value
    return check


def _ask(prompt: str, hidden: bool) -> str:
    return str(typer.prompt(prompt, hide_input=hidden, default="" if not hidden else None, show_default=False))


@dataclass
class CliContext:
    settings: Settings
    stores: list[Store] = field(default_factory=list)

    @cached_property
    def store(self) -> Store:
        from cases import Store
        from dunline.installation import master_keys

        store = Store(self.settings.effective_database_url, keys=master_keys(self.settings.data_dir))
        self.stores.append(store)
        return store

    def migrated_store(self) -> Store:
        """The store, refusing to run against a schema that is not at the newest migration."""
        from cases import migrate

        if not migrate.is_current(self.store.engine):
            raise fail("the database schema is not current; run `dunline db upgrade` first")
        return self.store

    @cached_property
    def acting(self) -> Acting:
        """Who this command acts as, proven by a credential (`dunline.identity`); asked for at most once."""
        from dunline.identity import IdentityRefused, identify

        ask = _ask if sys.stdin.isatty() else None
        try:
            return identify(self.migrated_store(), self.settings, os_user=getpass.getuser(),
                            now=datetime.now(timezone.utc), ask=ask)
        except IdentityRefused as error:
            raise fail(str(error)) from None

    def act(self, action: str) -> str:
        """The proven actor's name, refused unless its role may do `action` (a row of `CLI_ACCESS`)."""
        from dunline.identity import IdentityRefused, authorise

        try:
            authorise(self.acting, action)
        except IdentityRefused as error:
            raise fail(str(error)) from None
        return self.acting.name

    def authorise_unmask(self, reason: str) -> None:
        """Allow unmasked personal data only to a proven user whose role may see it; audit the access."""
        from cases.audit import record

        actor = self.act("cases unmask")
        with self.migrated_store().session() as session:
            record(session, actor=actor, action="personal_data.viewed", entity="cli", details={"what": reason})

    def close(self) -> None:
        for store in self.stores:
            store.dispose()
