"""Alembic environment: the engine comes from `cases.migrate`, the target metadata from the models."""

from alembic import context

import cases.models
from cases.models import Base

assert cases.models  # every table registered

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
