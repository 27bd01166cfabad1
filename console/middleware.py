"""The error middleware: whatever a handler raises leaves the API as JSON with an `error_id`, never as
Python's text (the error classes and their ids are drawn in `console.errors`; a service's own errors, such as
`campaigns.errors`, carry their id, status and details and leave the same way)."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy import exc as sql

from campaigns.errors import CampaignError
from console.common import error_response
from console.errors import ApiError
from console.validation import MAX_BODY_BYTES

logger = logging.getLogger(__name__)

HTTP_ERROR_IDS = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
# The database refused or dropped the connection, or the pool waited in vain: the request may succeed later.
DATABASE_DOWN = (sql.OperationalError, sql.InterfaceError, sql.TimeoutError)
RETRY_AFTER_S = 5


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (ApiError, CampaignError) as error:
        headers = error.headers if isinstance(error, ApiError) else None
        return error_response(error.status, error.error_id, error.message, headers=headers, **error.details)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        details = {"max_bytes": MAX_BODY_BYTES} if error.status == 413 else {}
        return error_response(error.status, HTTP_ERROR_IDS.get(error.status, f"http_{error.status}"), error.reason,
                              headers=allow, **details)
    except DATABASE_DOWN as error:
        logger.warning("database unavailable for %s %s (%s)", request.method, request.path, type(error).__name__)
        return error_response(503, "database_unavailable", "the case database is unavailable; try again shortly",
                              headers={"Retry-After": str(RETRY_AFTER_S)})
    except Exception:
        reference = secrets.token_hex(8)
        logger.exception("unexpected error in %s %s, reference %s", request.method, request.path, reference)
        return error_response(500, "internal", "unexpected error; quote the reference to your administrator",
                              reference=reference)
