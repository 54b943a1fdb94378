"""The worker's CPU per event on the traffic of benchmarks/ingest.py, without the API beside it.

Prints figures; asserts nothing. The embedded default's ingest rate is bound by its worker (a process of its own,
one core); this measures that worker alone, so a change to its hot path (identity, the consumers, claiming) can be
compared before and after on a shared machine: CPU time per event moves much less with the load than wall time.

1. A fresh SQLite database (or --database-url), a source, and the ingest benchmark's request bodies (64 templates
   of 100 events: 20% identify, 25% page, the rest track), parsed by the server's own `parse_batch` and appended
   to the inbox as the tracking API appends them.
2. A warm-up: the first --warm events drained by a `Worker` (every template's people made once, as in the first
   seconds of the ingest benchmark), then --events more drained and timed: events/s, and the worker's CPU per
   event (this process's user + system time over the drain).

    python benchmarks/worker_cpu.py                   # 100,000 events after a 12,800-event warm-up
    python benchmarks/worker_cpu.py --events 50000 --repeat 3
    python benchmarks/worker_cpu.py --events 30000 --repeat 2 --batch-size 800   # batches as beside the API
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path

import orjson

from ingest_load import make_templates, request_body
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import WRITE_INTENT, create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.ingestion import repository
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source
from seamline.worker.runner import Worker

BATCH = 100  # events per request, as benchmarks/ingest.py sends them


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--warm", type=int, default=12_800)
    parser.add_argument("--repeat", type=int, default=1, help="timed drains, each of --events more")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="events per batch (default: the worker's own; beside a live API on SQLite it paces to ~800)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seamline-worker-") as folder:
        settings = Settings(
            data_dir=Path(folder), database_url=args.database_url or "", worker_batch_size=args.batch_size
        )
        engine = create_db_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        upgrade(engine)
        with unit_of_work(engine) as session:
            source, _key = create_source(session, "bench", "server")
        templates = make_templates(20_240_601, uuid.uuid4().hex[:8], BATCH)
        writer = engine.execution_options(**{WRITE_INTENT: True})
        worker = Worker(engine, settings)
        next_request = 0

        def append(events: int) -> None:
            nonlocal next_request
            received_at, limits = utcnow(), Limits()
            requests = range(next_request, next_request + events // BATCH)
            next_request += len(requests)
            parsed = [parse_batch(orjson.loads(request_body(templates, n)), received_at, limits) for n in requests]
            for first in range(0, len(parsed), 50):
                with writer.begin() as conn:
                    repository.append_events(conn, [(source.id, received_at, e) for e in parsed[first : first + 50]])

        append(args.warm)
        worker.drain()
        print(
            f"worker CPU per event, SQLite={settings.is_sqlite}, batches of {worker._batch_size},"
            f" load average {_load()}",
            flush=True,
        )
        for _ in range(args.repeat):
            append(args.events)
            started, cpu = time.perf_counter(), time.process_time()
            done = worker.drain()
            wall, used = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"  {done} events in {wall:.2f} s: {done / wall:,.0f} events/s, {used / done * 1e6:.1f} µs CPU/event"
                f" (load average {_load()})",
                flush=True,
            )
        engine.dispose()


if __name__ == "__main__":
    main()
