"""The report catalogue over HTTP: the list of reports, one report by period and grouping as JSON, CSV or XLSX,
and the /reports page (controls, the figures as a table and a plotly.js chart (`console.report_charts`) drawn
by console/static/reports.js with the plotly.js we serve, export links), each a few lines over
`campaigns.reports`. Figures are aggregates: no personal data leaves here."""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web

from campaigns.reports import GROUPINGS, PERIODS, REPORTS, ReportTable, Window, run_report
from console.common import ClockKey, StoreKey
from console.errors import BadParameter
from console.pages import render
from console.report_charts import drill_keys, figure
from console.validation import choice, integer

FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(request: web.Request, name: str) -> date:
    raw = request.query.get(name)
    if raw is None:
        raise BadParameter(name, "is required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(name, "expected a date YYYY-MM-DD") from None


def _window(request: web.Request) -> Window:
    query = request.query
    first, last = _day(request, "from"), _day(request, "to")
    if last < first:
        raise BadParameter("to", "is before from")
    by = query.get("by") or None
    return Window(first, last, choice(query.get("period", "all"), "period", PERIODS),
                  None if by is None else choice(by, "by", GROUPINGS),
                  integer(query.get("utc_offset", "480"), "utc_offset", minimum=-720, maximum=840))


async def _table(request: web.Request, name: str, window: Window) -> ReportTable:
    store = request.app[StoreKey]

    def read() -> ReportTable:
        with store.engine.connect() as connection:
            return run_report(connection, name, window)

    try:
        return await asyncio.to_thread(read)
    except ValueError as error:  # a grouping this report cannot offer
        raise BadParameter("by", str(error)) from None


async def plotly_js(request: web.Request) -> web.FileResponse:
    """plotly.js from the `plotly` wheel, served by us (no CDN: consoles run on closed networks)."""
    spec = importlib.util.find_spec("plotly")  # found, not imported: the wheel's Python side is not used
    if spec is None or not spec.submodule_search_locations:
        raise web.HTTPNotFound(text="the plotly package is not installed")
    path = Path(spec.submodule_search_locations[0]) / "package_data" / "plotly.min.js"
    return web.FileResponse(path, headers={"Content-Type": "text/javascript", "Cache-Control": "no-cache"})


async def reports_page(request: web.Request) -> web.Response:
    query = request.query
    name = choice(query.get("report", "contact"), "report", REPORTS)
    if "from" not in query:  # the page opens on the last 30 days of the server's clock
        today = request.app[ClockKey]().date()
        window = Window(today - timedelta(days=29), today, "day", None, 480)
    else:
        window = _window(request)
    if not REPORTS[name].periodic and window.period != "all":  # it compares --from with --to
        window = replace(window, period="all")
    table = await _table(request, name, window)
    measures = [c for c in table.columns if c not in ("period", "group")]
    measure = query.get("measure") if query.get("measure") in measures else measures[0]
    drilled = None
    if "bucket" in query or "group" in query:
        from campaigns.reports.drill import cases_behind

        bucket = _day(request, "bucket") if "bucket" in query else None
        store = request.app[StoreKey]

        def read_cases() -> list[object]:
            with store.engine.connect() as connection:
                return list(cases_behind(connection, name, window, bucket, query.get("group")))
        drilled = await asyncio.to_thread(read_cases)
    params = {"report": name, "from": window.first.isoformat(), "to": window.last.isoformat(),
              "period": window.period, "by": window.by or "", "utc_offset": str(window.utc_offset_minutes)}
    return await render(request, "reports.html", reports=REPORTS, table=table, chart=figure(name, table, measure),
                        drills=[urlencode(drill_keys(table, row)) for row in table.rows], measure=measure,
                        measures=measures, params=params, drilled=drilled,
                        here="/reports?" + urlencode({**params, "measure": measure}), periods=PERIODS,
                        groupings=GROUPINGS,
                        export=f"/api/reports/{name}?" + urlencode({k: v for k, v in params.items()
                                                                    if k != "report" and v}))


async def reports_index(request: web.Request) -> web.Response:
    return web.json_response({"reports": [{"name": r.name, "title": r.title} for r in REPORTS.values()],
                              "periods": list(PERIODS), "groupings": list(GROUPINGS)})


async def report_show(request: web.Request) -> web.Response:
    name = choice(request.match_info["report"], "report", REPORTS)
    fmt = choice(request.query.get("format", "json"), "format", FORMATS)
    window = _window(request)
    table = await _table(request, name, window)
    filename = f"{name}-{window.first}-{window.last}"
    if fmt == "csv":
        return web.Response(text=table.to_csv(), content_type="text/csv", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    if fmt == "xlsx":
        return web.Response(body=table.to_xlsx(), content_type=XLSX,
                            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})
    return web.Response(text=table.to_json(), content_type="application/json")


async def report_cases(request: web.Request) -> web.Response:
    from campaigns.reports.drill import cases_behind

    name = choice(request.match_info["report"], "report", REPORTS)
    window = _window(request)
    bucket = _day(request, "bucket") if "bucket" in request.query else None
    store = request.app[StoreKey]

    def read() -> list[dict[str, object]]:
        with store.engine.connect() as connection:
            return [vars(case) for case in cases_behind(connection, name, window, bucket,
                                                        request.query.get("group"))]

    try:
        return web.json_response({"cases": await asyncio.to_thread(read)})
    except ValueError as error:
        raise BadParameter("by", str(error)) from None


def add_report_routes(app: web.Application) -> None:
    app.router.add_get("/reports", reports_page)
    app.router.add_get("/reports/plotly.min.js", plotly_js)
    app.router.add_get("/api/reports", reports_index)
    app.router.add_get("/api/reports/{report}", report_show)
    app.router.add_get("/api/reports/{report}/cases", report_cases)
