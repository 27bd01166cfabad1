"""The chart each report gets on the /reports page (console.report_charts): pure figures from report tables."""

from __future__ import annotations

from decimal import Decimal

from campaigns.reports import ReportTable
from console.report_charts import figure


def test_the_contact_funnel_over_the_whole_window() -> None:
    table = ReportTable("contact", ("dials", "contacts", "rpc", "ptp", "abandoned", "contact_rate", "rpc_rate",
                                    "ptp_rate", "abandon_rate"), ((5, 4, 2, 2, 1, 0.8, 0.4, 1.0, 0.25),))
    chart = figure("contact", table, "dials")
    assert chart["kind"] == "funnel"
    assert (chart["data"][0]["y"], chart["data"][0]["x"]) == (["dials", "contacts", "rpc", "ptp"], [5, 4, 2, 2])


def test_a_trend_by_day_is_a_line_per_group_and_its_points_drill() -> None:
    table = ReportTable("contact", ("period", "group", "dials"), (("2026-11-02", "li", 3), ("2026-11-02", "zhao", 1),
                                                                  ("2026-11-03", "li", 2)))
    chart = figure("contact", table, "dials")
    assert chart["kind"] == "line"
    assert [(line["name"], line["x"], line["y"]) for line in chart["data"]] == [
        ("li", ["2026-11-02", "2026-11-03"], [3.0, 2.0]), ("zhao", ["2026-11-02"], [1.0])]
    assert chart["data"][0]["customdata"] == ["bucket=2026-11-02&group=li", "bucket=2026-11-03&group=li"]


def test_channel_mix_stacks_the_channels() -> None:
    table = ReportTable("channel-mix", ("group", "attempts", "call", "sms", "email", "call_share", "sms_share",
                                        "email_share"), (("c1", 5, 4, 1, 0, 0.8, 0.2, 0.0),))
    chart = figure("channel-mix", table, "attempts")
    assert chart["kind"] == "stacked" and chart["layout"]["barmode"] == "stack"
    assert [(bar["name"], bar["y"]) for bar in chart["data"]] == [("call", [4.0]), ("sms", [1.0]), ("email", [0.0])]


def test_the_roll_rate_matrix_is_a_heatmap_in_bucket_order() -> None:
    table = ReportTable("roll-rates", ("from_bucket", "to_bucket", "accounts", "share"), (
        ("current", "1-30", 1, 1.0), ("1-30", "current", 1, 0.5), ("1-30", "31-60", 1, 0.5),
        ("61-90", "closed", 1, 1.0)))
    chart = figure("roll-rates", table, "accounts")
    heat = chart["data"][0]
    assert chart["kind"] == "heatmap"
    assert heat["x"] == ["current", "1-30", "31-60", "closed"] and heat["y"] == ["current", "1-30", "61-90"]
    assert heat["z"] == [[None, 1.0, None, None], [0.5, None, 0.5, None], [None, None, None, 1.0]]


def test_the_agent_league_ranks_agents_by_the_measure() -> None:
    table = ReportTable("agent-time", ("group", "logged_in_seconds", "collected_per_agent_hour"), (
        ("li", 2600, Decimal("692.31")), ("wang", 0, None), ("zhao", 3000, Decimal("144.00"))))
    chart = figure("agent-time", table, "collected_per_agent_hour")
    bars = chart["data"][0]
    assert chart["kind"] == "league" and bars["orientation"] == "h"
    assert (bars["y"], bars["x"]) == (["wang", "zhao", "li"], [0.0, 144.0, 692.31])  # the best at the top
    assert bars["customdata"] == ["group=wang", "group=zhao", "group=li"]
