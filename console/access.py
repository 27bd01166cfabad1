"""Who may call which API route: one table, (method, path template) -> roles, and the middleware that enforces it.

Every /api request needs a user (401 otherwise, before any 404 or 405, so the anonymous learn nothing of the
API's shape) except the open routes; the user's role must be in the route's row (403 otherwise). A route
missing from the table is refused to every role, so a new route stays closed until it is given a row.
/healthz and whatever else lies outside /api is not the API's business here.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from cases.models import Role
from console.auth import Authenticator
from console.errors import Forbidden, Unauthenticated
from console.tokens import Principal

Route = tuple[str, str]  # (method, path template as registered: "/api/campaigns/{campaign}")

CASE_READERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})
CAMPAIGN_READERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER, Role.SUPERVISOR})
CAMPAIGN_WRITERS = frozenset({Role.ADMIN, Role.CAMPAIGN_MANAGER})
AGENT_DESKS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
FLOOR_WATCHERS = frozenset({Role.ADMIN, Role.SUPERVISOR})

OPEN_ROUTES: frozenset[Route] = frozenset({("GET", "/api/openapi.yaml")})
ACCESS: Mapping[Route, frozenset[Role]] = {
    ("GET", "/api/cases"): CASE_READERS,  # masked for every role; agents get cases by their screen-pop
    ("GET", "/api/campaigns"): CAMPAIGN_READERS,
    ("GET", "/api/campaigns/{campaign}"): CAMPAIGN_READERS,
    ("POST", "/api/campaigns"): CAMPAIGN_WRITERS,
    ("POST", "/api/campaigns/{campaign}/{action}"): CAMPAIGN_WRITERS,
    ("POST", "/api/agents/{name}/state"): AGENT_DESKS,  # an agent their own only (console/agents.py)
    ("GET", "/api/agents/{name}/events"): AGENT_DESKS,
    ("GET", "/api/metrics"): FLOOR_WATCHERS,
}

API_PREFIX = "/api"
PrincipalKey = web.RequestKey("principal", Principal)
AuthenticatorsKey = web.AppKey("authenticators", tuple[Authenticator, ...])


def is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def matched_route(request: web.Request) -> Route | None:
    """The route the request matched, HEAD read as GET; None when it matched none (a 404 or 405 to come)."""
    if request.match_info.http_exception is not None:
        return None
    route = request.match_info.route
    template = route.resource.canonical if route.resource is not None else ""
    return ("GET" if route.method == "HEAD" else route.method, template)


async def authenticate(request: web.Request) -> Principal:
    for authenticator in request.app[AuthenticatorsKey]:
        principal = await authenticator.authenticate(request)
        if principal is not None:
            return principal
    raise Unauthenticated("this API needs a token: send 'Authorization: Bearer <token>' "
                          "(an administrator mints one with `dunline users token NAME`)")


def acting_user(request: web.Request) -> Principal:
    """The user the request acts as (set by `access_middleware` on every /api route that is not open)."""
    return request[PrincipalKey]


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = matched_route(request)
    api = is_api(request.path) or (route is not None and is_api(route[1]))
    if not api or route in OPEN_ROUTES:
        return await handler(request)
    principal = await authenticate(request)
    if route is not None:
        allowed = ACCESS.get(route, frozenset())
        if principal.role not in allowed:
            raise Forbidden(f"a {principal.role.value} may not use {route[0]} {route[1]}", role=principal.role.value,
                            allowed=sorted(role.value for role in allowed))
    request[PrincipalKey] = principal
    return await handler(request)
