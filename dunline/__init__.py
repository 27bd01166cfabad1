"""Dunline composition root: settings, CLI and process wiring.

Only this package builds services and wires the lower packages together. Its face is light: the settings
(and with them pydantic) load on first use (PEP 562), so `dunline --help` does not pay for them.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dunline.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dunline import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'dunline' has no attribute {name!r}")
