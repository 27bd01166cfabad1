"""The report catalogue: collection KPIs computed in the database, by period and by a grouping (issue 19).

`REPORTS` names every report; `run_report(connection, name, window)` returns its `ReportTable`.
"""

from campaigns.reports.catalogue import REPORTS, Report, run_report
from campaigns.reports.grouping import GROUPINGS, PERIODS, Window
from campaigns.reports.table import ReportTable

__all__ = ["GROUPINGS", "PERIODS", "REPORTS", "Report", "ReportTable", "Window", "run_report"]
