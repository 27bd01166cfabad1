"""Assignment, work queues and templates over HTTP (JSON): the signed-in agent's queue and escalation tasks, the
assignments and a run of the rules, agents' profiles, and the script/message templates (list, versions, save,
render) — each handler a few lines over `campaigns.assignment`, `campaigns.queues`, `campaigns.tasks` and
`campaigns.templates_store`.

An agent reads (and closes) their own queue's cases and tasks only; supervisors and administrators may name another agent. Templates are
checked and screened before they are saved; a refusal leaves as 422 `template_refused` naming the field, the
unknown variable or the screener's findings.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from aiohttp import web

from campaigns import assignment, queues, tasks, templates_store
from campaigns.templates import CHANNELS, MAX_BODY, MAX_SUBJECT, Template, TemplateError
from cases.models import Role, TaskStatus
from compliance.screening import Screener
from console.access import acting_user
from console.common import ClockKey, StoreKey, json_body
from console.errors import ApiError, BadParameter, Forbidden
from console.pages import render
from console.validation import choice, integer, json_object, optional_text, required, strings, text

MAX_ROW_ID = 2**31 - 1
PROGRESS_NAMES = {"not_contacted": ("未联系", "not contacted"), "contacted": ("已联系", "contacted"),
                  "promised": ("已承诺", "promised"), "paying": ("还款中", "paying"), "paid": ("已结清", "paid"),
                  "escalated": ("已升级", "escalated")}
MAX_NAME = 64
MAX_WORDS = 20
LANGUAGE_CODES = ("zh", "en")


class TemplateRefused(ApiError):
    status = 422
    error_id = "template_refused"


class AgentRefused(ApiError):
    status = 404
    error_id = "no_agent"


def _flag(raw: object, name: str) -> bool:
    if not isinstance(raw, bool):
        raise BadParameter(name, "expected true or false")
    return raw


@cache
def _screener() -> Screener:
    return Screener.load()


def _agent_asked(request: web.Request) -> str:
    principal = acting_user(request)
    asked = request.query.get("agent")
    if asked is None or asked == principal.username:
        return principal.username
    if principal.role is Role.AGENT:
        raise Forbidden("an agent may read their own queue only", role=principal.role.value)
    return text(asked, "agent", min_length=1, max_length=MAX_NAME)


async def queue_mine(request: web.Request) -> web.Response:
    agent = _agent_asked(request)
    limit = integer(request.query.get("limit", "100"), "limit", minimum=1, maximum=500)
    items = await asyncio.to_thread(queues.queue, request.app[StoreKey], agent, request.app[ClockKey](), limit=limit)
    return web.json_response({"agent": agent, "cases": [item.json() for item in items]})


async def tasks_mine(request: web.Request) -> web.Response:
    agent = _agent_asked(request)
    status = request.query.get("status", TaskStatus.OPEN.value)
    status = None if status == "any" else TaskStatus(choice(status, "status", (*TaskStatus, "any")))
    limit = integer(request.query.get("limit", "100"), "limit", minimum=1, maximum=500)
    found = await asyncio.to_thread(tasks.tasks, request.app[StoreKey], agent=agent, status=status, limit=limit)
    return web.json_response({"agent": agent, "tasks": [task.json() for task in found]})


async def task_close(request: web.Request) -> web.Response:
    principal = acting_user(request)
    task_id = integer(request.match_info["task"], "task", minimum=1, maximum=MAX_ROW_ID)
    body = json_object(await json_body(request), "", fields=("note",))
    note = optional_text(body.get("note"), "note", max_length=2000)
    only = principal.username if principal.role is Role.AGENT else None
    done = await asyncio.to_thread(tasks.close, request.app[StoreKey], task_id, actor=principal.username,
                                   at=request.app[ClockKey](), note=note, agent=only)
    return web.json_response(done.json())


async def assignments_index(request: web.Request) -> web.Response:
    agent = request.query.get("agent")
    agent = None if agent is None else text(agent, "agent", min_length=1, max_length=MAX_NAME)
    limit = integer(request.query.get("limit", "200"), "limit", minimum=1, maximum=10_000)
    rows = await asyncio.to_thread(assignment.assignments, request.app[StoreKey], agent=agent, limit=limit)
    return web.json_response({"assignments": rows})


async def assignment_run(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("dry_run",))
    dry_run = _flag(body.get("dry_run", False), "dry_run")
    report = await asyncio.to_thread(assignment.run, request.app[StoreKey], actor=acting_user(request).username,
                                     now=request.app[ClockKey](), dry_run=dry_run)
    return web.json_response(report.json())


def _words(body: dict[str, Any], name: str, allowed: tuple[str, ...] | None = None) -> list[str] | None:
    if body.get(name) is None:
        return None
    words = list(strings(body[name], name, max_items=MAX_WORDS, max_length=MAX_NAME))
    return [choice(word, name, allowed) for word in words] if allowed is not None else words


async def agent_profile(request: web.Request) -> web.Response:
    name = text(request.match_info["name"], "name", min_length=1, max_length=MAX_NAME)
    body = json_object(await json_body(request), "", fields=("team", "skills", "languages", "absent"))
    team = optional_text(body.get("team"), "team", max_length=MAX_NAME)
    absent = None if body.get("absent") is None else _flag(body["absent"], "absent")
    skills, languages = _words(body, "skills"), _words(body, "languages", LANGUAGE_CODES)

    def change() -> dict[str, Any]:
        try:
            return assignment.set_agent(request.app[StoreKey], name, actor=acting_user(request).username,
                                        now=request.app[ClockKey](), team=team, skills=skills, languages=languages,
                                        absent=absent)
        except assignment.AssignmentError as error:
            raise AgentRefused(str(error), agent=name) from None
    return web.json_response(await asyncio.to_thread(change))


def _key(source: Any) -> tuple[str, str, str]:
    return (text(required(source, "stage"), "stage", min_length=1, max_length=32),
            choice(required(source, "channel"), "channel", CHANNELS),
            choice(required(source, "language"), "language", LANGUAGE_CODES))


async def templates_index(request: web.Request) -> web.Response:
    channel = request.query.get("channel")
    if channel is not None:
        choice(channel, "channel", CHANNELS)
    store = request.app[StoreKey]

    def read() -> list[dict[str, Any]]:
        with store.reading() as session:
            return [t.json() for key, t in sorted(templates_store.in_use(session).items())
                    if channel is None or key[1] == channel]
    return web.json_response({"templates": await asyncio.to_thread(read)})


async def template_versions(request: web.Request) -> web.Response:
    key, store = _key(request.query), request.app[StoreKey]

    def read() -> list[dict[str, Any]]:
        with store.reading() as session:
            return [t.json() for t in templates_store.versions(session, key)]
    return web.json_response({"versions": await asyncio.to_thread(read)})


async def template_show(request: web.Request) -> web.Response:
    template_id = integer(request.match_info["template"], "template", minimum=1, maximum=MAX_ROW_ID)
    store = request.app[StoreKey]

    def read() -> dict[str, Any] | None:
        with store.reading() as session:
            try:
                return templates_store.by_id(session, template_id).json()
            except TemplateError:
                return None
    found = await asyncio.to_thread(read)
    if found is None:
        raise web.HTTPNotFound(reason=f"no template {template_id}")
    return web.json_response(found)


async def template_save(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("stage", "channel", "language", "body", "subject"))
    stage, channel, language = _key(body)
    template = Template(stage, channel, language, text(required(body, "body"), "body", min_length=1,
                                                       max_length=MAX_BODY),
                        optional_text(body.get("subject"), "subject", max_length=MAX_SUBJECT))
    store, actor = request.app[StoreKey], acting_user(request).username

    def save() -> dict[str, Any]:
        screener = _screener()
        with store.session() as session:
            try:
                return templates_store.save(session, template, screener=screener, actor=actor).json()
            except TemplateError as error:
                raise TemplateRefused(str(error), field=error.field, variable=error.variable,
                                      findings=list(error.findings)) from None
    return web.json_response(await asyncio.to_thread(save), status=201)


async def template_render(request: web.Request) -> web.Response:
    body = json_object(await json_body(request), "", fields=("account", "template_id", "stage", "channel",
                                                             "language"))
    account = integer(required(body, "account"), "account", minimum=1, maximum=MAX_ROW_ID)
    template_id = None if body.get("template_id") is None else integer(body["template_id"], "template_id",
                                                                       minimum=1, maximum=MAX_ROW_ID)
    channel = None if body.get("channel") is None else choice(body["channel"], "channel", CHANNELS)
    language = None if body.get("language") is None else choice(body["language"], "language", LANGUAGE_CODES)
    stage = optional_text(body.get("stage"), "stage", max_length=32)
    store, now, agent = request.app[StoreKey], request.app[ClockKey](), acting_user(request).username

    def render() -> dict[str, Any]:
        with store.reading() as session:
            try:
                return templates_store.render_for_case(session, account, today=now.date(), channel=channel,
                                                       template_id=template_id, stage=stage, language=language,
                                                       agent=agent).json()
            except TemplateError as error:
                raise TemplateRefused(str(error), field=error.field) from None
    return web.json_response(await asyncio.to_thread(render))


async def queue_page(request: web.Request) -> web.Response:
    agent = acting_user(request).username
    items = await asyncio.to_thread(queues.queue, request.app[StoreKey], agent, request.app[ClockKey]())
    return await render(request, "queue.html", agent=agent, items=items, progress_names=PROGRESS_NAMES)


async def tasks_page(request: web.Request) -> web.Response:
    agent = acting_user(request).username
    found = await asyncio.to_thread(tasks.tasks, request.app[StoreKey], agent=agent, status=TaskStatus.OPEN,
                                    limit=500)
    return await render(request, "tasks.html", agent=agent, tasks=found)


async def templates_page(request: web.Request) -> web.Response:
    store = request.app[StoreKey]

    def read() -> list[Template]:
        with store.reading() as session:
            return [template for _, template in sorted(templates_store.in_use(session).items())]
    return await render(request, "message_templates.html", templates=await asyncio.to_thread(read))


def add_assignment_routes(app: web.Application) -> None:
    app.router.add_get("/queue", queue_page)
    app.router.add_get("/tasks", tasks_page)
    app.router.add_get("/templates", templates_page)
    app.router.add_get("/api/queue", queue_mine)
    app.router.add_get("/api/tasks", tasks_mine)
    app.router.add_post("/api/tasks/{task}/close", task_close)
    app.router.add_get("/api/assignment", assignments_index)
    app.router.add_post("/api/assignment/run", assignment_run)
    app.router.add_post("/api/agents/{name}/profile", agent_profile)
    app.router.add_get("/api/templates", templates_index)
    app.router.add_post("/api/templates", template_save)
    app.router.add_get("/api/templates/versions", template_versions)
    app.router.add_post("/api/templates/render", template_render)
    app.router.add_get("/api/templates/{template}", template_show)
