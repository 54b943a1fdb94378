"""Bulk import benchmark: rows per second and peak memory for a generated CSV of N rows.

Prints figures; asserts nothing. Memory should stay flat as N grows (the file is streamed, twice).

    python benchmarks/import_rows.py [--rows 1000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from seamline.sources.service import create_source

MAPPING = """
format: csv
record_key: customer_no
identifiers: {email: email, phone: phone, crm_id: customer_no}
traits: {first_name: given_name, last_name: family_name, city: city}
holdings:
  - {type: checking_account, id: account_no, status: account_status}
"""


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_no,email,phone,given_name,family_name,city,account_no,account_status\n")
        for n in range(rows):
            out.write(f"C{n},p{n}@example.com,+1415{n % 10_000_000:07d},Given{n},Family{n},City{n % 97},A-{n},open\n")


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        engine = create_db_engine(url, sqlite_synchronous="NORMAL")
        upgrade(engine)
        with unit_of_work(engine) as session:
            create_source(session, "bench-import", "import")
        path = folder / "rows.csv"
        write_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size_mb:,.1f} MB of CSV; peak RSS before import {peak_rss_mb():,.0f} MB")
        mapping = load_mapping(MAPPING)
        for run in ("first import", "re-import (no change)"):
            started = time.perf_counter()
            result = import_file(engine, "bench-import", path, mapping)
            elapsed = time.perf_counter() - started
            print(
                f"{run}: {result.rows / elapsed:,.0f} rows/s ({elapsed:,.1f} s, validate + write), "
                f"{result.new_events:,} new events, {result.skipped_duplicates:,} duplicates; "
                f"peak RSS {peak_rss_mb():,.0f} MB"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
