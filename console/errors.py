"""Errors that reach the HTTP API. Each carries a stable `error_id`, an HTTP status and `details`; the error
middleware (`console.middleware`) writes them as the JSON body `{error_id, message, details}`.

    ApiError
    ├── BadParameter     400 bad_parameter            a query parameter, header or body field out of bounds;
    │                                                 details name it
    ├── BadJson          400 bad_json                 a body that is not one bounded JSON object
    ├── Unauthenticated  401 authentication_required  an /api request without credentials
    │   ├── InvalidToken 401 invalid_token            a token unknown, wrong, revoked, expired or whose user
    │   │                                             is deactivated (not told apart)
    │   └── SessionEnded 401 session_ended            a console session cookie forged, timed out, ended, or
    │                                                 whose user is deactivated (not told apart)
    └── Forbidden        403 forbidden                the user's role may not use the route; details: role
        ├── CsrfRefused  403 csrf                     an unsafe request of a session without its CSRF token
        └── EnrolmentRequired 403 totp_enrolment_required  a user who must use TOTP has none yet (/account)

A service's refusals keep their own hierarchy beside this one, with the same three attributes, and the
middleware writes them alike: `campaigns.errors.CampaignError` (no_campaign 404, campaign_exists 409, ...).
Other failures that are not ApiErrors get their ids from the middleware: database_unavailable (503), internal
(500, with a reference that is logged), and not_found / method_not_allowed / body_too_large for aiohttp's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    status = 400
    error_id = "bad_request"
    headers: Mapping[str, str] | None = None

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unavailable(ApiError):
    """A part this process does not run (an API-only process has no agent desk), or one that is down."""

    status = 503
    error_id = "unavailable"


class BadParameter(ApiError):
    error_id = "bad_parameter"

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter!r}: {problem}", parameter=parameter)


class BadJson(ApiError):
    error_id = "bad_json"


class Unauthenticated(ApiError):
    status = 401
    error_id = "authentication_required"
    headers = {"WWW-Authenticate": 'Bearer realm="dunline"'}  # RFC 6750 §3


class InvalidToken(Unauthenticated):
    error_id = "invalid_token"
    headers = {"WWW-Authenticate": 'Bearer realm="dunline", error="invalid_token"'}


class Forbidden(ApiError):
    status = 403
    error_id = "forbidden"


class SessionEnded(Unauthenticated):
    error_id = "session_ended"


class CsrfRefused(Forbidden):
    error_id = "csrf"


class EnrolmentRequired(Forbidden):
    error_id = "totp_enrolment_required"
