"""The access review for administrators and compliance reviewers: who viewed or unmasked which debtor
(`cases.access_review`), filtered by user, debtor and date range, as a page (`/review/access`, with the
operators who viewed far more cases than they called) and as CSV for an auditor (`/api/audit/access.csv`).

Reading the review is itself audited (`audit.access_reviewed`, with the filters and the number of rows).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from cases import Store
from cases.access_review import (
    DEFAULT_MIN_VIEWS,
    DEFAULT_RATIO,
    AccessQuery,
    access_rows,
    count_views,
    view_tallies,
    write_csv,
)
from cases.audit import record
from console.access import acting_user
from console.common import StoreKey
from console.errors import BadParameter
from console.pages import render
from console.validation import integer, number, text

PAGE_ROWS = 200
MAX_CSV_ROWS = 1_000_000  # an auditor's export of years of views still fits; past it, narrow the dates
FILTERS = ("user", "debtor", "since", "until", "ratio", "min_views")


@dataclass(frozen=True)
class Review:
    query: AccessQuery
    ratio: float
    min_views: int


def _day(raw: str, name: str, *, end: bool) -> datetime:
    """A date (YYYY-MM-DD, UTC; `until` includes its day) or an ISO instant."""
    value = text(raw, name, max_length=40).strip()
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
            return day + timedelta(days=1) if end else day
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, "expected a date YYYY-MM-DD or an ISO 8601 instant") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _ratio(raw: str) -> float:
    try:
        value = float(text(raw, "ratio", max_length=16))
    except ValueError:
        raise BadParameter("ratio", "expected a number") from None
    return number(value, "ratio", minimum=0.0, maximum=1000.0)  # NaN and infinity refused here


def review_query(query: Mapping[str, str], *, limit: int | None) -> Review:
    """The review's filters from a query string, bounded."""
    def optional(name: str) -> str | None:
        return text(query[name], name, max_length=64).strip() or None if query.get(name) else None
    return Review(AccessQuery(user=optional("user"), debtor=optional("debtor"),
                              since=_day(query["since"], "since", end=False) if query.get("since") else None,
                              until=_day(query["until"], "until", end=True) if query.get("until") else None,
                              limit=limit),
                  ratio=_ratio(query.get("ratio", str(DEFAULT_RATIO))),
                  min_views=integer(query.get("min_views", str(DEFAULT_MIN_VIEWS)), "min_views", minimum=1,
                                    maximum=1_000_000))


def _audited(store: Store, actor: str, review: Review, shown: int, form: str) -> None:
    with store.session() as session:
        record(session, actor=actor, action="audit.access_reviewed", entity="audit_log", details={
            "format": form, "rows": shown, "ratio": review.ratio, "min_views": review.min_views,
            **{key: value for key, value in asdict(review.query).items() if value is not None and key != "limit"}})


def read_page(store: Store, actor: str, review: Review) -> dict[str, Any]:
    with store.reading() as session:
        rows = access_rows(session, review.query)
        total = count_views(session, review.query)
        tallies = view_tallies(session, since=review.query.since, until=review.query.until, ratio=review.ratio,
                               min_views=review.min_views)
    _audited(store, actor, review, len(rows), "page")
    return {"rows": rows, "total": total, "tallies": tallies}


def read_csv(store: Store, actor: str, review: Review) -> str:
    with store.reading() as session:
        rows = access_rows(session, review.query)
    _audited(store, actor, review, len(rows), "csv")
    out = io.StringIO()
    write_csv(rows, out)
    return out.getvalue()


async def access_page(request: web.Request) -> web.Response:
    review = review_query(request.query, limit=PAGE_ROWS)
    found = await asyncio.to_thread(read_page, request.app[StoreKey], acting_user(request).username, review)
    asked = {key: request.query[key] for key in FILTERS if request.query.get(key)}
    return await render(request, "access_review.html", asked=asked, review=review, csv_link=
                        f"/api/audit/access.csv?{urlencode(asked)}", page_rows=PAGE_ROWS, **found)


async def access_csv(request: web.Request) -> web.Response:
    review = review_query(request.query, limit=MAX_CSV_ROWS)
    body = await asyncio.to_thread(read_csv, request.app[StoreKey], acting_user(request).username, review)
    return web.Response(text=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="access-review.csv"', "Cache-Control": "no-store"})


def add_access_review_routes(app: web.Application) -> None:
    app.router.add_get("/review/access", access_page)
    app.router.add_get("/api/audit/access.csv", access_csv)
