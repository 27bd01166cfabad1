"""What the /reports page's chart draws: a plotly.js figure ({kind, data, layout}) for one report table, pure
(no I/O), which console/static/reports.js hands to `Plotly.newPlot`. The kind follows the report and its keys:

- roll-rates: a heatmap of `share`, from-bucket (rows) by to-bucket (columns): the roll-rate matrix;
- channel-mix: bars of the attempts per channel, stacked;
- contact over the whole window, ungrouped: the funnel dials > contacts > right-party contacts > promises;
- agent-time grouped by agent: the league table, agents as horizontal bars ranked by the measure;
- any other report by period: a line per group (the trend by day, week or month);
- otherwise: one bar per group.

A bar or point carries in `customdata` the query naming its period bucket and group, which the page adds to
its own address to list the cases behind it (the drill-down).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from campaigns.reports import ReportTable
from campaigns.reports.portfolio import BUCKET_ORDER

FUNNEL = ("dials", "contacts", "rpc", "ptp")
CHANNELS = ("call", "sms", "email")
COLOUR = "#3b6ea5"


def drill_keys(table: ReportTable, row: tuple[Any, ...]) -> dict[str, str]:
    """The drill query's names: the period bucket's first day and the group."""
    keys = {}
    if "period" in table.columns:
        keys["bucket"] = str(row[table.columns.index("period")])
    if "group" in table.columns:
        keys["group"] = str(row[table.columns.index("group")])
    return keys


def _label(table: ReportTable, row: tuple[Any, ...]) -> str:
    return " · ".join(drill_keys(table, row).values()) or "all"


def _number(value: Any) -> float:
    return float(value) if value is not None else 0.0


def figure(report: str, table: ReportTable, measure: str) -> dict[str, Any]:
    layout: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 30, "b": 60}, "height": 320,
                              "title": {"text": measure, "font": {"size": 13}}}
    column = table.columns.index(measure)
    drills = [urlencode(drill_keys(table, row)) for row in table.rows]
    if report == "roll-rates":
        return _roll_matrix(table, layout)
    if report == "channel-mix":
        labels = [_label(table, row) for row in table.rows]
        data = [{"type": "bar", "name": channel, "x": labels,
                 "y": [_number(row[table.columns.index(channel)]) for row in table.rows], "customdata": drills}
                for channel in CHANNELS]
        return {"kind": "stacked", "data": data, "layout": {**layout, "barmode": "stack",
                                                            "title": {"text": "attempts", "font": {"size": 13}}}}
    if report == "contact" and table.rows and table.columns[0] == "dials":
        row = table.rows[0]
        return {"kind": "funnel", "data": [{"type": "funnel", "y": list(FUNNEL), "marker": {"color": COLOUR},
                                            "x": [_number(row[table.columns.index(name)]) for name in FUNNEL]}],
                "layout": {**layout, "title": {"text": "contact funnel", "font": {"size": 13}}}}
    if report == "agent-time" and table.columns[0] == "group":
        ranked = sorted(zip(table.rows, drills, strict=True), key=lambda pair: _number(pair[0][column]))
        return {"kind": "league", "data": [{
            "type": "bar", "orientation": "h", "marker": {"color": COLOUR},
            "y": [_label(table, row) for row, _ in ranked], "x": [_number(row[column]) for row, _ in ranked],
            "customdata": [drill for _, drill in ranked]}], "layout": {**layout, "margin": {**layout["margin"],
                                                                                           "l": 100}}}
    if "period" in table.columns:
        lines: dict[str, dict[str, Any]] = {}
        for row, drill in zip(table.rows, drills, strict=True):
            name = str(row[table.columns.index("group")]) if "group" in table.columns else measure
            line = lines.setdefault(name, {"type": "scatter", "mode": "lines+markers", "name": name, "x": [], "y": [],
                                           "customdata": []})
            line["x"].append(str(row[table.columns.index("period")]))
            line["y"].append(_number(row[column]))
            line["customdata"].append(drill)
        return {"kind": "line", "data": list(lines.values()), "layout": layout}
    return {"kind": "bar", "data": [{"type": "bar", "marker": {"color": COLOUR}, "customdata": drills,
                                     "x": [_label(table, row) for row in table.rows],
                                     "y": [_number(row[column]) for row in table.rows]}], "layout": layout}


def _roll_matrix(table: ReportTable, layout: dict[str, Any]) -> dict[str, Any]:
    """Rows: from-bucket (prefixed by the group when grouped), columns: to-bucket, cells: the share."""
    grouped = "group" in table.columns
    names = ["from_bucket", "to_bucket", "share"]
    at = [table.columns.index(name) for name in names]
    rows: list[str] = []
    columns: list[str] = []
    share: dict[tuple[str, str], float] = {}
    for row in table.rows:
        origin = (f"{row[table.columns.index('group')]} · " if grouped else "") + str(row[at[0]])
        target = str(row[at[1]])
        rows += [origin] if origin not in rows else []
        columns += [target] if target not in columns else []
        share[(origin, target)] = _number(row[at[2]])
    columns.sort(key=lambda name: BUCKET_ORDER.get(name, len(BUCKET_ORDER)))
    z = [[share.get((origin, target)) for target in columns] for origin in rows]
    return {"kind": "heatmap", "data": [{"type": "heatmap", "x": columns, "y": rows, "z": z, "zmin": 0, "zmax": 1,
                                         "colorscale": "Blues", "texttemplate": "%{z:.0%}"}],
            "layout": {**layout, "title": {"text": "roll rates", "font": {"size": 13}},
                       "yaxis": {"autorange": "reversed"}}}
