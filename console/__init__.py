"""The web console and HTTP API (aiohttp)."""

from console.app import StoreKey, build_app

__all__ = ["StoreKey", "build_app"]
