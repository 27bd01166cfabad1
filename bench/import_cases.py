"""Import throughput and memory: N generated cases into a fresh SQLite file and a fresh PostgreSQL database.

Each import runs in its own process so its peak RSS is its own (`helper_peak_rss_mb`: the process that parses
rows beside it, cases.importer.rows). Goal: >= 20,000 rows/s on SQLite on a
2-core machine, with flat (streaming) memory.

    python bench/import_cases.py [--rows 100000] [--json] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def one_import(url: str, path: str) -> None:
    """Child process: migrate, import, print one JSON line."""
    from cases import Store, migrate
    from cases.importer import CaseImporter
    from crypto import KEY_FILE, MasterKeys

    store = Store(url, keys=MasterKeys(Path(path).parent / KEY_FILE))  # the column key's master key, made by migrate
    migrate.upgrade(store.engine)
    started = time.perf_counter()
    report = CaseImporter(store, actor="bench", default_region="CN").run(Path(path))
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    helper_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the parser process, for large files
    print(json.dumps({"backend": store.backend, "rows": report.inserted, "rows_per_s": round(report.inserted / elapsed),
                      "seconds": round(elapsed, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "helper_peak_rss_mb": round(helper_kb / 1024, 1),
                      "invalid": report.invalid_rows}))


def run_child(url: str, path: Path) -> dict:  # type: ignore[type-arg]
    output = subprocess.run([sys.executable, __file__, "--child", url, str(path)], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="one JSON object per database")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL, help="PostgreSQL server (a scratch database is made)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        one_import(*args.child)
        return

    from sqlalchemy import create_engine, text

    from cases.demo_data import generate_cases, write_csv

    work = Path(tempfile.mkdtemp(prefix="dunline-bench-"))
    data = work / f"cases-{args.rows}.csv"
    write_csv(data, generate_cases(args.rows, seed=11))
    results = [run_child(f"sqlite:///{work / 'bench.db'}", data)]

    name = f"dunline_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server: say so and report SQLite alone
        print(f"PostgreSQL not reachable at {args.pg_url}: {error.__class__.__name__}", file=sys.stderr)
    else:
        try:
            results.append(run_child(args.pg_url.rsplit("/", 1)[0] + f"/{name}", data))
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    for result in results:
        if args.json:
            print(json.dumps({k: result[k] for k in ("backend", "rows", "rows_per_s", "peak_rss_mb")}))
        else:
            goal = "  (goal >= 20000 rows/s)" if result["backend"] == "sqlite" else ""
            print(f"{result['backend']:>10}: {result['rows']:>7} rows in {result['seconds']:>6.1f} s = "
                  f"{result['rows_per_s']:>6} rows/s{goal}, peak RSS {result['peak_rss_mb']} MB")


if __name__ == "__main__":
    main()
