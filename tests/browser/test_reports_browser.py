"""The reports page in a real browser (issue 19): a campaign manager opens /reports, changes the period and the
grouping (the plotly.js chart, served by us, redraws), clicks a bar and sees the cases behind it (names masked),
and downloads the XLSX export, which openpyxl opens. plotly.js runs under the console's Content-Security-Policy
(the `browser_page` fixture fails a test on any violation or script error). Screenshot tests/out/reports-en.png."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from cases.models import Payment, PaymentChannel
from tests.browser.conftest import Console, sign_in
from tests.campaigns.assignment_seed import add_case

PASSWORD = "browser-test-password"


def test_a_manager_groups_drills_and_exports(console: Console, browser_page: Any, tmp_path: Path) -> None:
    acme, beta = add_case(console.store, "A-1", creditor="Acme"), add_case(console.store, "B-1", creditor="Beta")
    with console.store.session() as session:
        for account, amount, day, ref in ((acme, "10", date(2026, 11, 3), "r1"), (acme, "5", date(2026, 11, 10), "r2"),
                                          (beta, "3", date(2026, 11, 10), "r3")):
            session.add(Payment(account_id=account, amount=Decimal(amount), paid_on=day,
                                channel=PaymentChannel.ALIPAY, external_ref=ref))
    console.add_user("mia", "campaign_manager", PASSWORD)
    page = browser_page
    sign_in(page, "mia", PASSWORD)
    page.goto("/reports?lang=en&report=collections&from=2026-11-01&to=2026-11-30&period=all")
    page.wait_for_selector("#chart[data-drawn=bar]")
    assert page.locator("#chart .bars .point").count() == 1

    page.select_option("#report-controls select[name=period]", "week")
    page.select_option("#report-controls select[name=measure]", "collected")
    with page.expect_navigation():
        page.click("#report-controls button[type=submit]")
    page.wait_for_selector("#chart[data-drawn=line]")  # redrawn: the trend by week
    assert page.locator("#chart .scatterlayer .point").count() == 2  # the weeks of the 2nd and the 9th
    page.select_option("#report-controls select[name=period]", "all")
    page.select_option("#report-controls select[name=by]", "creditor")
    with page.expect_navigation():
        page.click("#report-controls button[type=submit]")
    page.wait_for_selector("#chart[data-drawn=bar]")  # redrawn: a bar per creditor
    assert page.locator("#chart .xtick text").all_text_contents() == ["Acme", "Beta"]
    assert page.locator("#chart .bars .point").count() == 2
    console.screenshot(page, "reports-en")

    beta = page.locator("#chart .bars .point path").nth(1).bounding_box()
    assert beta is not None
    page.mouse.move(beta["x"] + beta["width"] / 2, beta["y"] + beta["height"] / 2)
    page.wait_for_selector("#chart .hoverlayer .hovertext")  # plotly.js knows the bar under the pointer
    with page.expect_navigation():
        page.mouse.down()
        page.mouse.up()
    rows = page.locator("#drill-cases tbody tr").all_inner_texts()
    assert len(rows) == 1 and "B-1" in rows[0] and "Beta" in rows[0] and "王小明" not in rows[0]

    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert list(sheet.iter_rows(values_only=True)) == [("group", "payments", "collected"), ("Acme", 2, 15),
                                                       ("Beta", 1, 3)]
