"""Bulk import benchmark: rows per second and the import process's peak memory, by size and format.

Each run imports a generated file into a fresh SQLite database through the real command (`seamline import` in a
child process), so the peak RSS printed is the import's own, not the generator's. Memory must stay flat as the
row count grows: both passes stream the file (CSV by line, Parquet by record batch). Prints figures; asserts
nothing.

    python benchmarks/import_rows.py --rows 100000 1000000 --format csv parquet [--reimport]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.sources.service import create_source

MAPPING = """
record_key: customer_no
identifiers: {email: email, phone: phone, crm_id: customer_no}
traits: {first_name: given_name, last_name: family_name, city: city}
holdings:
  - {type: checking_account, id: account_no, status: account_status}
"""
COLUMNS = ("customer_no", "email", "phone", "given_name", "family_name", "city", "account_no", "account_status")
WRITE_BATCH = 100_000


def _row(n: int) -> tuple[str, ...]:
    return (
        f"C{n}",
        f"p{n}@example.com",
        f"+1415{200 + n % 800:03d}{n % 10_000:04d}",  # a valid number: exchanges start at 2
        f"Given{n}",
        f"Family{n}",
        f"City{n % 97}",
        f"A-{n}",
        "open",
    )


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(",".join(COLUMNS) + "\n")
        for n in range(rows):
            out.write(",".join(_row(n)) + "\n")


def write_parquet(path: Path, rows: int) -> None:
    schema = pa.schema([(name, pa.string()) for name in COLUMNS])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, WRITE_BATCH):
            cells = [_row(n) for n in range(start, min(rows, start + WRITE_BATCH))]
            writer.write_table(pa.table({name: [c[i] for c in cells] for i, name in enumerate(COLUMNS)}, schema))


def run_import(url: str, path: Path, mapping: Path) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) of the import process, and its last line of output."""
    env = {**os.environ, "SEAMLINE_DATABASE_URL": url, "SEAMLINE_SQLITE_SYNCHRONOUS": "NORMAL"}
    command = [sys.executable, "-c", "from seamline.cli import main; main()", "import", "bench-import", str(path)]
    started = time.perf_counter()
    child = subprocess.Popen([*command, "--mapping", str(mapping)], env=env, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"the import failed ({child.returncode}):\n{output}")
    peak_mb = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return elapsed, peak_mb, output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--format", choices=("csv", "parquet"), nargs="+", default=["csv", "parquet"])
    parser.add_argument("--reimport", action="store_true", help="also time importing the unchanged file again")
    args = parser.parse_args()
    writers = {"csv": write_csv, "parquet": write_parquet}
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for file_format in args.format:
        for rows in args.rows:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                url = f"sqlite:///{folder / 'bench.db'}"
                engine = create_db_engine(url, sqlite_synchronous="NORMAL")
                upgrade(engine)
                with unit_of_work(engine) as session:
                    create_source(session, "bench-import", "import")
                engine.dispose()
                mapping = folder / "mapping.yaml"
                mapping.write_text(MAPPING, encoding="utf-8")
                path = folder / f"rows.{file_format}"
                writers[file_format](path, rows)
                size_mb = path.stat().st_size / 1e6
                runs = ("first import", "re-import") if args.reimport else ("first import",)
                for run in runs:
                    elapsed, peak_mb, last = run_import(url, path, mapping)
                    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                    print(
                        f"{file_format:8} {rows:>9,} rows ({size_mb:,.1f} MB) {run}: {rows / elapsed:,.0f} rows/s "
                        f"({elapsed:,.1f} s, validate + write), import process peak RSS {peak_mb:,.0f} MB; "
                        f"load {load}\n    {last}"
                    )


if __name__ == "__main__":
    main()
