"""The web console and HTTP API (aiohttp)."""

from console.app import build_app
from console.common import StoreKey

__all__ = ["StoreKey", "build_app"]
