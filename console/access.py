"""Who may call which route: one table, (method, path template) -> roles, for the API and the console's pages
alike, and the middleware that enforces it.

Every route but the open ones needs a user (a bearer token or a console session): 401 otherwise, and for an
/api path before any 404 or 405, so the anonymous learn nothing of the API's shape. The user's role must be
in the route's row (403 otherwise). A route missing from the table is refused to every role, so a new route
stays closed until it is given a row. A path outside /api that matches no route is a plain 404.
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
REVIEWERS = frozenset({Role.ADMIN, Role.COMPLIANCE_REVIEWER})
HOLD_KEEPERS = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.COMPLIANCE_REVIEWER})

EVERYONE = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})

OPEN_ROUTES: frozenset[Route] = frozenset({("GET", "/api/openapi.yaml"), ("GET", "/healthz"), ("GET", "/signin"),
                                           ("POST", "/signin"), ("GET", "/static/{name}")})
ACCESS: Mapping[Route, frozenset[Role]] = {
    ("GET", "/api/cases"): CASE_READERS,  # masked for every role; agents get cases by their screen-pop
    ("GET", "/api/campaigns"): CAMPAIGN_READERS,
    ("GET", "/api/campaigns/{campaign}"): CAMPAIGN_READERS,
    ("POST", "/api/campaigns"): CAMPAIGN_WRITERS,
    ("POST", "/api/campaigns/{campaign}/{action}"): CAMPAIGN_WRITERS,
    ("POST", "/api/agents/{name}/state"): AGENT_DESKS,  # an agent their own only (console/agents.py)
    ("GET", "/api/agents/{name}/events"): AGENT_DESKS,
    ("GET", "/api/metrics"): FLOOR_WATCHERS,
    # campaigns and wallboard (console/wallboard.py, console/supervisor.py, console/campaign_pages.py)
    ("GET", "/api/wallboard"): CAMPAIGN_READERS,
    ("GET", "/api/wallboard/socket"): CAMPAIGN_READERS,
    ("GET", "/api/segments/count"): CAMPAIGN_READERS,
    ("POST", "/api/agents/{name}/force"): FLOOR_WATCHERS,  # force-pause, log-out
    ("GET", "/campaigns"): CAMPAIGN_READERS,
    ("GET", "/campaigns/new"): CAMPAIGN_WRITERS,
    ("GET", "/campaigns/{campaign}"): CAMPAIGN_READERS,
    ("GET", "/wallboard"): CAMPAIGN_READERS,
    # agent desktop (console/desk.py): an agent their own calls only
    ("GET", "/desk"): AGENT_DESKS,
    ("GET", "/api/desk/me"): AGENT_DESKS,
    ("GET", "/api/desk/case/{attempt}"): AGENT_DESKS,
    ("POST", "/api/desk/attempts/{attempt}/disposition"): AGENT_DESKS,
    ("POST", "/api/desk/attempts/{attempt}/promise"): AGENT_DESKS,
    ("POST", "/api/desk/attempts/{attempt}/plan"): AGENT_DESKS,
    ("POST", "/api/desk/attempts/{attempt}/callback"): AGENT_DESKS,
    ("POST", "/api/desk/attempts/{attempt}/note"): AGENT_DESKS,
    ("GET", "/api/desk/preview/next"): AGENT_DESKS,  # preview: each user their own offer
    ("POST", "/api/desk/preview/{account}/dial"): AGENT_DESKS,
    ("POST", "/api/desk/preview/{account}/skip"): AGENT_DESKS,
    # console foundation: home, sign-out, account (console/signin.py, console/pages.py)
    ("GET", "/"): EVERYONE,
    ("POST", "/signout"): EVERYONE,
    ("GET", "/account"): EVERYONE,
    ("POST", "/account/password"): EVERYONE,
    ("POST", "/account/totp"): EVERYONE,
    ("POST", "/account/totp/confirm"): EVERYONE,
    ("POST", "/account/signout-everywhere"): EVERYONE,
    # administration (console/admin.py)
    ("GET", "/admin"): ADMINS,
    ("POST", "/admin/users"): ADMINS,
    ("POST", "/admin/users/{user}/{action}"): ADMINS,
    ("GET", "/admin/tokens"): ADMINS,
    ("POST", "/admin/tokens"): ADMINS,
    ("POST", "/admin/tokens/{token}/revoke"): ADMINS,
    ("GET", "/admin/rulepacks"): ADMINS,
    ("GET", "/admin/health"): ADMINS,
    # compliance review (console/review.py, console/holds.py, console/review_pages.py)
    ("GET", "/api/review/queue"): REVIEWERS,
    ("GET", "/api/review/calls/{attempt}"): REVIEWERS,
    ("GET", "/api/review/calls/{attempt}/recording"): REVIEWERS,
    ("POST", "/api/review/findings/{finding}/decision"): REVIEWERS,
    ("GET", "/api/review/scorecards"): REVIEWERS,
    ("GET", "/api/attempts/{attempt}/receipt"): REVIEWERS,
    ("GET", "/api/holds"): HOLD_KEEPERS,
    ("POST", "/api/holds"): HOLD_KEEPERS,
    ("POST", "/api/accounts/{account}/email-ok"): HOLD_KEEPERS,  # a bounced e-mail address cleared (audited)
    ("POST", "/api/holds/{hold}/release"): HOLD_KEEPERS,
    ("GET", "/review"): REVIEWERS,
    ("GET", "/review/calls/{attempt}"): REVIEWERS,
    ("GET", "/review/scorecards"): REVIEWERS,
    ("GET", "/review/attempts/{attempt}/receipt"): REVIEWERS,
    ("GET", "/holds"): HOLD_KEEPERS,
    # legal library, access review, subject-access export (console/library.py, console/access_review.py,
    # console/subjects.py)
    ("GET", "/library"): EVERYONE,
    ("GET", "/library/{entry}"): EVERYONE,
    ("GET", "/review/access"): REVIEWERS,
    ("GET", "/api/audit/access.csv"): REVIEWERS,
    ("GET", "/api/subjects/{debtor}/export"): ADMINS,
    # assignment, work queues, templates (console/assignment.py)
    ("GET", "/api/queue"): AGENT_DESKS,  # an agent their own; supervisors and admins may name an agent
    ("GET", "/api/tasks"): AGENT_DESKS,  # escalation tasks: an agent their own, as the queue
    ("POST", "/api/tasks/{task}/close"): AGENT_DESKS,  # an agent only a task on their own queue
    ("GET", "/api/assignment"): CAMPAIGN_READERS,
    ("POST", "/api/assignment/run"): CAMPAIGN_READERS,
    ("POST", "/api/agents/{name}/profile"): FLOOR_WATCHERS,
    ("GET", "/api/templates"): CAMPAIGN_READERS | REVIEWERS,
    ("GET", "/api/templates/versions"): CAMPAIGN_READERS | REVIEWERS,
    ("GET", "/api/templates/{template}"): CAMPAIGN_READERS | REVIEWERS,
    ("POST", "/api/templates"): CAMPAIGN_WRITERS,
    ("POST", "/api/templates/render"): CAMPAIGN_READERS,
    ("GET", "/queue"): AGENT_DESKS,
    ("GET", "/tasks"): AGENT_DESKS,
    ("GET", "/templates"): CAMPAIGN_READERS | REVIEWERS,
    # reports (console/reports.py): aggregates only
    ("GET", "/reports"): CAMPAIGN_READERS,
    ("GET", "/reports/plotly.min.js"): CAMPAIGN_READERS,  # the charts' library, from the plotly wheel
    ("GET", "/api/reports"): CAMPAIGN_READERS,
    ("GET", "/api/reports/{report}"): CAMPAIGN_READERS,
    ("GET", "/api/reports/{report}/cases"): CAMPAIGN_READERS,  # drill-down, names masked
    # the unmatched payments queue (console/payments.py), as `dunline payments`
    ("GET", "/api/payments/unmatched"): CAMPAIGN_WRITERS,
    ("POST", "/api/payments/unmatched/{line}/resolve"): CAMPAIGN_WRITERS,
    # repayment plans (console/plans.py), as `dunline plans show|reschedule`
    ("GET", "/api/plans/{plan}"): CAMPAIGN_WRITERS,
    ("POST", "/api/plans/{plan}/reschedule"): CAMPAIGN_WRITERS,
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
    """The user the request acts as (set by `access_middleware` on every route that is not open)."""
    return request[PrincipalKey]


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = matched_route(request)
    api = is_api(request.path) or (route is not None and is_api(route[1]))
    if route in OPEN_ROUTES or (route is None and not api):
        return await handler(request)
    principal = await authenticate(request)
    request[PrincipalKey] = principal  # also for a refusal's error page (its header names the user)
    if route is not None:
        allowed = ACCESS.get(route, frozenset())
        if principal.role not in allowed:
            raise Forbidden(f"a {principal.role.value} may not use {route[0]} {route[1]}", role=principal.role.value,
                            allowed=sorted(role.value for role in allowed))
    return await handler(request)
