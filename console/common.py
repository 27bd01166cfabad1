"""What every handler shares: the typed application keys and the error body."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from cases import Store

StoreKey = web.AppKey("store", Store)
RedisKey = web.AppKey("redis", aioredis.Redis)


def error_response(status: int, error_id: str, message: str, **details: Any) -> web.Response:
    return web.json_response({"error_id": error_id, "message": message, "details": details}, status=status)
