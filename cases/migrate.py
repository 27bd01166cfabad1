"""Alembic migrations driven from code, so no alembic.ini has to sit in the working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cases.models.sealed import DIALECT_ATTRIBUTE


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate, then make the column key (cases.columns) if the database has none and the store has keys."""
    command.upgrade(alembic_config(engine), revision)
    columns = getattr(engine.dialect, DIALECT_ATTRIBUTE, None)
    if columns is not None and columns.keys is not None and revision == "head":
        with engine.begin() as connection:
            columns.ensure(connection)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)
    if (columns := getattr(engine.dialect, DIALECT_ATTRIBUTE, None)) is not None:
        columns.forget()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
