from sqlalchemy import inspect

from cases import Store, migrate
from cases.models import Base


def test_upgrade_creates_every_table_and_downgrade_removes_them(store: Store) -> None:
    # The fixture has upgraded to head already.
    assert migrate.is_current(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables

    migrate.downgrade(store.engine, "base")
    assert migrate.current_revision(store.engine) is None
    assert not set(Base.metadata.tables) & set(inspect(store.engine).get_table_names())

    migrate.upgrade(store.engine)
    assert migrate.is_current(store.engine)


def test_models_and_migrations_agree(store: Store) -> None:
    """Autogenerate against a migrated database finds nothing: the migrations describe the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
