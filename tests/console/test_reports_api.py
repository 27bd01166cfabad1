"""/api/reports over a real server on both databases: JSON, CSV and XLSX; bad parameters named; agents refused."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import BytesIO

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from cases import Store
from cases.models import Payment, PaymentChannel, Role
from tests.campaigns.assignment_seed import add_case
from tests.console.conftest import bearer, mint_token

WINDOW = {"from": "2026-11-01", "to": "2026-11-30"}


def pay(store: Store) -> None:
    acme, beta = add_case(store, "A-1", creditor="Acme"), add_case(store, "B-1", creditor="Beta")
    with store.session() as session:
        for account, amount, ref in ((acme, "10.25", "r1"), (acme, "4.75", "r2"), (beta, "3", "r3")):
            session.add(Payment(account_id=account, amount=Decimal(amount), paid_on=date(2026, 11, 9),
                                channel=PaymentChannel.WECHAT_PAY, external_ref=ref))


async def test_reports_as_json_csv_and_xlsx(api: TestClient, store: Store) -> None:
    pay(store)
    index = await (await api.get("/api/reports")).json()
    assert "collections" in [report["name"] for report in index["reports"]] and "week" in index["periods"]
    shown = await api.get("/api/reports/collections", params={**WINDOW, "by": "creditor"})
    assert shown.status == 200
    assert (await shown.json())["rows"] == [["Acme", 2, "15.00"], ["Beta", 1, "3.00"]]
    csv = await api.get("/api/reports/collections", params={**WINDOW, "period": "month", "format": "csv"})
    assert "attachment" in csv.headers["Content-Disposition"]
    assert (await csv.text()).splitlines() == ["period,payments,collected", "2026-11-01,3,18.00"]
    xlsx = await api.get("/api/reports/collections", params={**WINDOW, "format": "xlsx"})
    sheet = load_workbook(BytesIO(await xlsx.read())).active
    assert list(sheet.iter_rows(values_only=True)) == [("payments", "collected"), (3, 18)]


async def test_bad_parameters_are_named(api: TestClient) -> None:
    for params, parameter in (({"to": "2026-11-30"}, "from"), ({**WINDOW, "to": "2026-10-01"}, "to"),
                              ({**WINDOW, "period": "year"}, "period"), ({**WINDOW, "by": "colour"}, "by"),
                              ({**WINDOW, "by": "agent"}, "by"), ({**WINDOW, "utc_offset": "9999"}, "utc_offset")):
        answer = await api.get("/api/reports/collections", params=params)
        assert answer.status == 400, params
        assert (await answer.json())["details"]["parameter"] == parameter, params
    assert (await api.get("/api/reports/nope", params=WINDOW)).status == 400


async def test_agents_may_not_read_reports(anonymous: TestClient, store: Store) -> None:
    answer = await anonymous.get("/api/reports", headers=bearer(mint_token(store, Role.AGENT)))
    assert answer.status == 403
    manager = bearer(mint_token(store, Role.CAMPAIGN_MANAGER))
    assert (await anonymous.get("/api/reports/contact", params=WINDOW, headers=manager)).status == 200


async def test_reports_page_draws_the_bars_and_links_the_exports(api: TestClient, store: Store) -> None:
    pay(store)
    page = await api.get("/reports", params={"report": "collections", **WINDOW, "period": "all", "by": "creditor",
                                             "measure": "collected"})
    assert page.status == 200
    html = await page.text()
    chart = json.loads(html.split('<script type="application/json" id="chart-data">')[1].split("</script>")[0])
    assert chart["kind"] == "bar"
    assert (chart["data"][0]["x"], chart["data"][0]["y"]) == (["Acme", "Beta"], [15.0, 3.0])
    assert chart["data"][0]["customdata"] == ["group=Acme", "group=Beta"]  # the drill-down of each bar
    assert '<script src="/reports/plotly.min.js" defer></script>' in html
    assert "/api/reports/collections?from=2026-11-01&amp;to=2026-11-30&amp;period=all&amp;by=creditor" in html
    opened = await api.get("/reports")  # the last 30 days of the clock, by day
    assert opened.status == 200 and 'id="report-table"' in await opened.text()
    plotly = await api.get("/reports/plotly.min.js")
    assert plotly.status == 200 and plotly.content_type == "text/javascript"
    body = await plotly.read()
    assert body.startswith(b"/**\n* plotly.js v") and len(body) > 1_000_000
    version = body.split(b"plotly.js v", 1)[1].split(b"\n", 1)[0].decode()
    css = await (await api.get("/static/plotly.css")).text()
    assert css.startswith(f"/* plotly.js {version}'s own style rules")  # taken from the plotly.js we serve
    rolled = await (await api.get("/reports", params={"report": "roll-rates", **WINDOW, "period": "day"})).text()
    assert 'data-kind="heatmap"' in rolled  # a report comparing two days is shown over the whole window


async def test_drill_down_lists_the_cases_behind_a_bar_masked(api: TestClient, store: Store) -> None:
    pay(store)
    answer = await api.get("/api/reports/collections/cases", params={**WINDOW, "by": "creditor", "group": "Acme"})
    assert answer.status == 200
    cases = (await answer.json())["cases"]
    assert [(case["account_ref"], case["creditor"]) for case in cases] == [("A-1", "Acme")]
    assert "王小明" not in cases[0]["debtor"] and cases[0]["debtor"].startswith("王")
    weekly = await api.get("/api/reports/collections/cases", params={**WINDOW, "period": "week",
                                                                     "bucket": "2026-11-09"})
    assert [case["account_ref"] for case in (await weekly.json())["cases"]] == ["A-1", "B-1"]
    empty = await api.get("/api/reports/collections/cases", params={**WINDOW, "period": "week",
                                                                    "bucket": "2026-11-02"})
    assert (await empty.json())["cases"] == []
    bad = await api.get("/api/reports/collections/cases", params={**WINDOW, "period": "week", "bucket": "soon"})
    assert bad.status == 400 and (await bad.json())["details"]["parameter"] == "bucket"


async def test_a_bar_drills_into_its_cases_on_the_page(api: TestClient, store: Store) -> None:
    pay(store)
    page = await (await api.get("/reports", params={"report": "collections", **WINDOW, "by": "creditor"})).text()
    assert "&amp;group=Beta" in page and 'id="drill-cases"' not in page
    drilled = await (await api.get("/reports", params={"report": "collections", **WINDOW, "by": "creditor",
                                                       "group": "Beta"})).text()
    assert "<td>B-1</td><td>Beta</td>" in drilled and "A-1" not in drilled and "王小明" not in drilled
