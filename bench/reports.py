"""Every report of the catalogue over a large generated history on PostgreSQL: p95 seconds per report.

    python bench/reports.py [--attempts 1000000] [--accounts 100000] [--runs 5] [--json] [--pg-url URL]

The history (accounts with home regions and due dates, agents in teams, campaigns, attempts over 90 days with
promises and payments, the agents' state log: 8 hours a day of ready / on call / wrap-up or pause cycles) is
generated inside the server with generate_series into a throw-away database, migrated to head. The DPD
snapshots are written by the snapshot job itself (`take_snapshot`), once for each of the 90 days, with 70 % of
the accounts in the book from the first day, the rest placed one 90th a day, and a few accounts curing each
day; the job's p95 per day is reported too. Each report runs `--runs` times over the whole 90 days for each
shape it accepts (no grouping, by day, by agent, by campaign by month, by region, by DPD bucket) and the p95 of
those timings is reported per report. Goal: <= 2 s each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from datetime import date, timedelta

from sqlalchemy import create_engine, text

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST, LAST = date(2026, 9, 1), date(2026, 11, 29)  # 90 days
SHAPES = ({"period": "all", "by": None}, {"period": "day", "by": None}, {"period": "all", "by": "agent"},
          {"period": "month", "by": "campaign"}, {"period": "all", "by": "region"}, {"period": "all", "by": "dpd"})

GENERATE = [
    "INSERT INTO teams (name, created_at) SELECT 'team-' || t, now() FROM generate_series(1, 5) t",
    "INSERT INTO users (username, display_name, role, active, created_at, totp_required, failed_signins) "
    "SELECT 'agent-' || u, 'agent-' || u, 'agent', true, now(), false, 0 FROM generate_series(1, 50) u",
    "INSERT INTO agent_profiles (user_id, team_id, skills, languages, absent, created_at) "
    "SELECT id, 1 + id % 5, '[]', '[]', false, now() FROM users",
    "INSERT INTO campaigns (name, status, dial_mode, abandon_target, definition, created_by, created_at, updated_at) "
    "SELECT 'campaign-' || c, 'running', 'predictive', 0.03, '{}', 'bench', now(), now() FROM generate_series(1, 10) c",
    "INSERT INTO debtors (external_ref, full_name, language, created_at, updated_at) "
    "SELECT 'D' || d, '王' || d, 'zh', now(), now() FROM generate_series(1, :accounts) d",
    "INSERT INTO addresses (debtor_id, kind, region, country) SELECT id, 'home', 'region-' || id % 31, 'CN' "
    "FROM debtors",
    # due dates spread over 240 days before the window's end; 3 in 10 accounts placed during the window
    "INSERT INTO accounts (debtor_id, creditor, account_ref, product, currency, principal, balance, overdue_amount, "
    "due_date, jurisdiction, charged_off, time_barred, status, created_at, updated_at) "
    "SELECT id, 'creditor-' || id % 7, 'A' || id, (ARRAY['credit_card','consumer_loan','microloan'])[1 + id % 3], "
    "'CNY', 5000, 4000, 1000, DATE '2026-11-29' - id % 240, 'CN', false, false, "
    "CASE WHEN id % 10 < 7 THEN 'open' ELSE 'recalled' END, now(), now() FROM debtors",
    # attempts: 1 in 10 an SMS; of calls 40 % answered (1 in 20 of those abandoned), half the answered a conversation
    "INSERT INTO attempts (account_id, number_e164, campaign_id, agent_id, started_at, answered_at, ended_at, "
    "outcome, conversation, receipt, channel) "
    "SELECT 1 + (a::bigint * 7919) % :accounts, '+8613800000000', 1 + a % 10, "
    "CASE WHEN a % 10 < 4 AND a % 20 <> 3 THEN 1 + a % 50 END, s, "
    "CASE WHEN a % 10 < 4 THEN s END, CASE WHEN a % 10 < 4 THEN s + (a % 300) * interval '1 second' END, "
    "CASE WHEN a % 10 = 9 THEN 'message' WHEN a % 20 = 3 THEN 'abandoned' WHEN a % 10 < 4 THEN 'answered' "
    "ELSE 'no_answer' END, a % 10 < 2, '{}', CASE WHEN a % 10 = 9 THEN 'sms' ELSE 'call' END "
    "FROM (SELECT a, timestamp '2026-09-01' + (a::bigint * 7776000 / :attempts) * interval '1 second' AS s "
    "      FROM generate_series(1, :attempts) a) g",
    "INSERT INTO promises (account_id, attempt_id, amount, promised_for, source, status, created_by, created_at) "
    "SELECT account_id, id, 500, CAST(started_at AS date) + 3, 'agent', "
    "(ARRAY['pending','kept','broken'])[1 + id % 3], agent_id, started_at FROM attempts WHERE conversation "
    "AND id % 4 = 0",
    "INSERT INTO payments (account_id, amount, paid_on, channel, external_ref, created_at) "
    "SELECT account_id, amount, promised_for, 'alipay', 'P' || id, now() FROM promises WHERE status = 'kept'",
    # the agents' state log: 8 hours a day from 09:00 Beijing, cycles of 60 s ready, 180 s on a call, then 30 s
    # of wrap-up (every 20th cycle a pause instead)
    "INSERT INTO agent_state_spans (agent, state, started_at, ended_at) "
    "SELECT 'agent-' || u, CASE k WHEN 0 THEN 'ready' WHEN 1 THEN 'on_call' "
    "ELSE CASE WHEN c % 20 = 0 THEN 'paused' ELSE 'wrap_up' END END, s, "
    "s + (ARRAY[60, 180, 30])[k + 1] * interval '1 second' "
    "FROM generate_series(1, 50) u, generate_series(0, 89) d, generate_series(0, 105) c, generate_series(0, 2) k, "
    "LATERAL (SELECT timestamp '2026-09-01 01:00' + d * interval '1 day' + (c * 270 + (ARRAY[0, 60, 240])[k + 1]) "
    "         * interval '1 second' AS s) t",
    "INSERT INTO agent_state_hours (agent, hour, state, seconds) SELECT agent, date_trunc('hour', started_at), state, "
    "sum(EXTRACT(EPOCH FROM ended_at - started_at)) FROM agent_state_spans GROUP BY 1, 2, 3",  # as the writer sums
    "ANALYZE",
]
# each day before its snapshot: one 90th of the accounts still to place enters the book, one 97th cures
BOOK_DAY = ("UPDATE accounts SET status = 'open' WHERE id % 10 >= 7 AND id % 90 = :day",
            "UPDATE accounts SET overdue_amount = 0 WHERE id % 97 = :day % 97")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL)
    args = parser.parse_args()

    from campaigns.reports import REPORTS, Window, run_report
    from campaigns.reports.snapshot import take_snapshot
    from cases import Store, migrate

    name = f"dunline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        # The generator writes its rows in SQL, the personal columns among them unsealed: no report reads them.
        store = Store(args.pg_url.rsplit("/", 1)[0] + f"/{name}")
        migrate.upgrade(store.engine)
        started = time.perf_counter()
        with store.engine.begin() as connection:
            for statement in GENERATE:
                connection.execute(text(statement), {"accounts": args.accounts, "attempts": args.attempts})
        snapshots = []
        for day in range((LAST - FIRST).days + 1):
            with store.engine.begin() as connection:
                for statement in BOOK_DAY:
                    connection.execute(text(statement), {"day": day})
                began = time.perf_counter()
                take_snapshot(connection, FIRST + timedelta(days=day))
                snapshots.append(time.perf_counter() - began)
        with store.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        generated = time.perf_counter() - started
        figures: dict[str, float] = {}
        shapes: dict[str, int] = {}
        with store.engine.connect() as connection:
            for report in REPORTS:
                timings = []
                for shape in SHAPES:
                    try:
                        run_report(connection, report, Window(FIRST, LAST, utc_offset_minutes=480, **shape))
                    except ValueError:  # a grouping or period the report does not take
                        continue
                    shapes[report] = shapes.get(report, 0) + 1
                    for _ in range(args.runs):
                        began = time.perf_counter()
                        run_report(connection, report, Window(FIRST, LAST, utc_offset_minutes=480, **shape))
                        timings.append(time.perf_counter() - began)
                figures[report] = statistics.quantiles(timings, n=20)[-1] if len(timings) > 1 else timings[0]
        store.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    result = {"attempts": args.attempts, "accounts": args.accounts, "generate_s": round(generated, 1),
              "snapshot_p95_s": round(statistics.quantiles(snapshots, n=20)[-1], 3),
              "p95_s": {report: round(seconds, 3) for report, seconds in figures.items()}, "shapes": shapes}
    if args.json:
        print(json.dumps(result))
        return
    print(f"generated {args.attempts} attempts over {args.accounts} accounts in {generated:.1f} s", file=sys.stderr)
    print(f"{'dpd snapshot':>16}: p95 {result['snapshot_p95_s']:6.3f} s a day")
    for report, seconds in figures.items():
        print(f"{report:>16}: p95 {seconds:6.3f} s over {shapes[report]} shape(s)  (goal <= 2 s)")


if __name__ == "__main__":
    main()
