"""Triggers benchmark: the cost of evaluating 100 loaded rules on resolved batches, in-process and in the worker.

Prints figures; asserts nothing. Steps:
1. Generate synthetic people and a realistic event stream (web and app tracks, calls, product events, identifies).
2. Write 100 rule files: 2 that fire (a task on a call, once per person; a next-day message after an order, once
   per order), 1 on a trait (every identify is looked at), 27 on events of the stream whose conditions do not
   hold, 70 on events the stream never has.
3. In-process: the trigger engine's `take` on resolved batches of 5,000 events (each in its transaction, committed)
   -> events/s with 100 rules, and with none.
4. The worker: the same events drained by one worker, on two fresh databases, without rules and with the 100 rules
   -> events/s each (the difference is what the triggers add to the whole pipeline).

    python benchmarks/triggers.py [--people 10000] [--events 100000] [--quick] [--database-url URL]

Goal (issue 16): trigger evaluation >= 20,000 events/s with 100 rules loaded, a small added cost in the worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.pipeline import ResolvedBatch, ResolvedEvent, occurred_at
from seamline.sources.service import create_source
from seamline.synthetic.events import SyntheticEvent, generate_events
from seamline.synthetic.people import generate_people
from seamline.triggers.actions import Actions
from seamline.triggers.book import RuleBook
from seamline.triggers.config import TriggersConfig
from seamline.triggers.service import TriggerEngine
from seamline.worker.runner import Worker

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity import load_inbox

FIRING = {
    "call-task": """
on: {event: Call Completed}
do:
  task: {title: "Call back {traits.first_name}", queue: service, skills: [calls]}
""",
    "order-next-step": """
on: {event: Order Completed}
once: "{order_id}"
do:
  send: journey_next_step
  data: {first_name: "{traits.first_name}", step: order, next_step: we pack it, expected: within a day}
  delay: 1d
""",
    "vulnerable-flag": """
on:
  trait: vulnerable
  where: {value: true}
do:
  task: {title: Check the support plan, queue: vulnerable-customers}
""",
}
STREAM = ("Product Viewed", "Offer Viewed", "Search Performed", "Button Clicked", "Account Opened", "Card Activated",
          "Statement Issued", "Card Payment Made", "Order Shipped")  # fmt: skip


def write_rules(folder: Path, *, firing: bool = True) -> int:
    """The 100 rules; without `firing`, the two that fire hold a condition that is never true (evaluation alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in FIRING.items():
        if not firing and name != "vulnerable-flag":
            event = "Call Completed" if name == "call-task" else "Order Completed"
            body = f"on:\n  event: {event}\n  where: {{channel: pigeon}}\ndo:\n  task: {{title: never}}\n"
        (folder / f"{name}.yaml").write_text(body, encoding="utf-8")
    for i in range(27):  # on events the stream has; their conditions never hold
        event = STREAM[i % len(STREAM)]
        body = f"on:\n  event: {event}\n  where: {{item: sku-none-{i}}}\ndo:\n  task: {{title: never {i}}}\n"
        (folder / f"quiet-{i:02d}.yaml").write_text(body, encoding="utf-8")
    for i in range(70):  # on events the stream never has
        body = f"on: {{event: Rare Event {i}}}\ndo:\n  call: crm\n"
        (folder / f"rare-{i:02d}.yaml").write_text(body, encoding="utf-8")
    return len(list(folder.glob("*.yaml")))


def batches_of(events: list[SyntheticEvent], people: int, size: int) -> list[ResolvedBatch]:
    """Resolved batches as identity hands them on: each event on a profile (here, one per person key)."""
    now = datetime.now(UTC)
    out, current = [], []
    for number, event in enumerate(events, 1):
        message = event.message
        who = str(message.get("userId") or message.get("anonymousId") or number)
        profile = zlib.crc32(who.encode()) % people + 1
        current.append(ResolvedEvent(number, 1, message, now, occurred_at(message, now), profile))
        if len(current) == size:
            out.append(ResolvedBatch(current, []))
            current = []
    if current:
        out.append(ResolvedBatch(current, []))
    return out


def in_process(
    database_url: str, folder: Path | None, batches: list[ResolvedBatch], settings: Settings
) -> tuple[float, float]:
    """(events per second of wall time, events per second of this process's CPU time)."""
    engine = create_db_engine(database_url)
    catalog = Catalog(BUILTIN_DIR)
    actions = Actions(catalog, settings.consent, settings.tasks, settings.cases.calendar.calendar(),
                      settings.survivorship)  # fmt: skip
    book = RuleBook(folder, templates=frozenset(catalog.names())) if folder else RuleBook()
    triggers = TriggerEngine(book, actions)
    count = sum(len(b.events) for b in batches)
    started, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        with unit_of_work(engine) as session:
            triggers.take(session, batch)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return count / seconds, count / cpu


def drained(workdir: Path, name: str, events: list[SyntheticEvent], rules: Path | None) -> tuple[float, float, int]:
    """(events/s of wall time, events/s of CPU time, firings) of one worker draining the events."""
    database_url = f"sqlite:///{workdir / f'{name}.db'}"
    engine = create_db_engine(database_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        sources = {s: create_source(session, s, "server")[0].id for s in sorted({e.source for e in events})}
    load_inbox(engine, events, sources)
    settings = Settings(database_url=database_url, data_dir=workdir, triggers=TriggersConfig(rules_dir=rules))
    worker = Worker(engine, settings)
    started, cpu = time.perf_counter(), time.process_time()
    count = worker.drain()
    rate, cpu_rate = count / (time.perf_counter() - started), count / (time.process_time() - cpu)
    with engine.connect() as conn:
        fired = int(conn.execute(text("SELECT count(*) FROM trigger_firings")).scalar_one())
    engine.dispose()
    return rate, cpu_rate, fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="20k events over 2k people")
    parser.add_argument("--database-url", default="", help="the in-process step's database; default SQLite")
    args = parser.parse_args()
    if args.quick:
        args.people, args.events = 2_000, 20_000
    workdir = Path(tempfile.mkdtemp(prefix="seamline-triggers-bench-"))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}")
    people = generate_people(args.people, args.seed)
    events = list(generate_events(people, args.events, args.seed, datetime(2026, 1, 1, tzinfo=UTC)))
    folder = workdir / "rules"
    print(f"{len(events):,} events over {len(people):,} people; {write_rules(folder)} rules")

    database_url = args.database_url or f"sqlite:///{workdir / 'in-process.db'}"
    upgrade(create_db_engine(database_url))
    settings = Settings(database_url=database_url, data_dir=workdir)
    batches = batches_of(events, args.people, 5000)
    quiet_folder = workdir / "quiet"
    write_rules(quiet_folder, firing=False)
    quiet, quiet_cpu = in_process(database_url, quiet_folder, batches, settings)
    print(f"in-process evaluation on resolved batches of 5,000, 100 rules none of which fire: {quiet:,.0f} events/s "
          f"({quiet_cpu:,.0f} per CPU second); load {os.getloadavg()[0]:.2f}")  # fmt: skip
    loaded, loaded_cpu = in_process(database_url, folder, batches, settings)
    with create_db_engine(database_url).connect() as conn:
        fired = int(conn.execute(text("SELECT count(*) FROM trigger_firings")).scalar_one())
    print(f"in-process with the 100 rules ({fired:,} firings, each a task or a waiting message): {loaded:,.0f} "
          f"events/s ({loaded_cpu:,.0f} per CPU second); load {os.getloadavg()[0]:.2f}")  # fmt: skip

    without, without_cpu, _ = drained(workdir, "without", events, None)
    with_rules, with_cpu, fired = drained(workdir, "with", events, folder)
    print(f"worker without rules: {without:,.0f} events/s ({without_cpu:,.0f} per CPU second)")
    print(f"worker with 100 rules: {with_rules:,.0f} events/s ({with_cpu:,.0f} per CPU second); {fired:,} firings; "
          f"CPU per event +{100 * (without_cpu / with_cpu - 1):.1f}%; load {os.getloadavg()[0]:.2f}")  # fmt: skip
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
