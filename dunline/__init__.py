"""Dunline composition root: settings, CLI and process wiring.

Only this package builds services and wires the lower packages together.
"""

__all__ = ["Settings", "load_settings"]

from dunline.settings import Settings, load_settings
