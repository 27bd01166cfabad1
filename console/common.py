"""What every handler shares: the typed application keys (store, Redis, clock), the error body and the bounded
JSON body reader."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from aiohttp import web

from cases import Store
from console.validation import parse_json_object

StoreKey = web.AppKey("store", Store)
RedisKey = web.AppKey("redis", aioredis.Redis)
ClockKey = web.AppKey("clock", Callable[[], datetime])  # the API's wall clock, injected by the composition root


def error_response(status: int, error_id: str, message: str, *, reference: str | None = None,
                   headers: Mapping[str, str] | None = None, **details: Any) -> web.Response:
    body: dict[str, Any] = {"error_id": error_id, "message": message, "details": details}
    if reference is not None:
        body["reference"] = reference
    return web.json_response(body, status=status, headers=headers)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The body as one JSON object. Its size is capped before it is read whole: aiohttp raises 413 past the
    application's client_max_size (`validation.MAX_BODY_BYTES`, set by `build_app`)."""
    return parse_json_object(await request.read())
