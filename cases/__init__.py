"""The case store: schema, migrations, import, segments and the audit chain.

The bottom layer: it imports no other Dunline package.
"""

from cases.db import Store

__all__ = ["Store"]
