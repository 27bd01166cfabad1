"""The case store: schema, migrations, import, segments and the audit chain.

The bottom layer: it imports no other Dunline package. Its face is light: `Store` (and with it SQLAlchemy)
loads on first use (PEP 562), so the pure modules (`cases.masking`, `cases.phones`) can be imported by pure
logic elsewhere without a database library.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cases.db import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    if name == "Store":
        from cases.db import Store

        return Store
    raise AttributeError(f"module 'cases' has no attribute {name!r}")
