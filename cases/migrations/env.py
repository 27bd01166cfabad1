"""Alembic environment: the engine comes from `cases.migrate`, the target metadata from the models.

On SQLite a migration that changes a column's type copies its table (batch mode) and drops the original: with
foreign keys enforced, dropping `debtors` would cascade to their phones and addresses. So foreign keys are off
while migrations run (SQLite ignores the pragma inside a transaction, hence before BEGIN, on the driver's own
connection), and checked when they are done.
"""

from alembic import context

import cases.models
from cases.models import Base

assert cases.models  # every table registered

engine = context.config.attributes["engine"]
sqlite = engine.dialect.name == "sqlite"
with engine.connect() as connection:
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=sqlite,
                compare_type=True,
            )
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise RuntimeError(f"a migration left rows without their parent: {broken[:5]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
