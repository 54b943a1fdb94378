"""Outbox benchmark, per dispatcher process: emails/s to a loopback SMTP sink, webhooks/s to a loopback receiver,
SMS/s in Twilio's wire shape to the same loopback receiver standing for the provider, enqueue → handed-to-transport
latency at a steady rate, and the CPU the send-time consent check adds per message.

Prints figures; asserts nothing. The sink (aiosmtpd) and the receiver (uvicorn) run in their own processes so
they do not share the dispatcher's GIL; the dispatcher is the product's own (`build_dispatcher`), one process.

    python benchmarks/outbox.py [--messages 5000] [--rate 200] [--seconds 10] [--postgres | --database-url URL]
                                [--dispatchers 2]

With `--dispatchers N` (PostgreSQL) it also drains the same outbox with one and with N dispatcher processes and
counts what the receiver and the sink got: every message once, none lost, none twice.

Goals (issue 14): >= 500 emails/s, >= 2,000 webhooks/s, p99 < 1 s at 200 messages/s, consent check < 100 µs CPU.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from seamline.communications.config import BUILTIN_DIR, EmailConfig, ProviderConfig
from seamline.communications.models import Communication
from seamline.communications.service import check_sends, queue_message
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.consent.policy import Choice, Reachability, may_contact
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.destinations.service import create_destination, publish
from seamline.identity.models import IdentifierLink, Profile
from seamline.outbox.config import OutboxConfig
from seamline.worker.dispatcher import build_dispatcher

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import percentile  # noqa: E402 - the benchmarks folder is not a package

NOTICE = {"first_name": "Ada", "change": "your limit rose to 5,000"}
DUE = {"first_name": "Ada", "amount": "£120.00", "due_date": "12 December"}


def _sink(port: int, received: Any, ready: Any) -> None:
    """A loopback SMTP server that reports (message id, arrival time) of each message."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
            content = envelope.content.decode("utf-8", "replace")
            start = content.find("Message-ID: <") + len("Message-ID: <")
            received.put((content[start : content.find("@", start)], time.time()))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    threading.Event().wait()


def _receiver(port: int, ready: Any) -> None:
    """A loopback webhook receiver answering 204 (uvicorn, no signature check: the tests verify signatures). It
    counts the webhooks it got and their distinct `webhook-id`s, which `GET /stats` answers: a message sent twice
    shows as more webhooks than ids."""
    import json

    import uvicorn

    seen: set[bytes] = set()
    got = [0]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "GET":
            stats = json.dumps({"webhooks": got[0], "distinct": len(seen)}).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": stats})
            return
        for name, value in scope["headers"]:
            if name == b"webhook-id":
                got[0] += 1
                seen.add(value)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    ready.set()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _people(engine: Engine, count: int) -> list[int]:
    now = datetime.now(UTC)
    with unit_of_work(engine) as session:
        first = session.execute(
            insert(table_of(Profile)).returning(table_of(Profile).c.id),
            [{"created_at": now, "updated_at": now, "merge_count": 0} for _ in range(count)],
        )
        ids = [int(r[0]) for r in first]
        session.execute(
            insert(table_of(IdentifierLink)),
            [
                {"profile_id": p, "type": kind, "value": value, "first_seen_at": now, "last_seen_at": now}
                for p in ids
                for kind, value in (("email", f"person{p}@example.com"), ("phone", f"+1202{p:07d}"))
            ],
        )  # fmt: skip
    return ids


def _queue(
    engine: Engine, settings: Settings, people: list[int], catalog: Catalog, template: str = "account_notice",
    data: dict[str, str] = NOTICE, channel: str | None = None,
) -> float:  # fmt: skip
    started = time.perf_counter()
    for chunk in range(0, len(people), 500):
        with unit_of_work(engine) as session:
            for person in people[chunk : chunk + 500]:
                queue_message(
                    session, person, template, data, catalog=catalog, consent=settings.consent, channel=channel
                )
    return len(people) / (time.perf_counter() - started)


def _drain(engine: Engine, settings: Settings) -> tuple[int, float, float]:
    runner = build_dispatcher(engine, settings, unsubscribe_url=None)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        delivered = 0
        while (settled := runner.run_once()) > 0:
            delivered += settled
    finally:
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        runner.stop()
    return delivered, wall, used


def _dispatcher_process(settings: Settings, ready: Any, go: Any, results: Any) -> None:
    """One dispatcher process of the scaling run: drains the outbox from the moment `go` is set."""
    engine = create_db_engine(settings.database_url)
    runner = build_dispatcher(engine, settings, unsubscribe_url=None)
    with engine.connect():
        pass  # the pool's connection is open before the clock starts
    ready.release()
    go.wait()
    started, cpu = time.time(), time.process_time()
    delivered = 0
    try:
        while (settled := runner.run_once()) > 0:
            delivered += settled
    finally:
        results.put((delivered, started, time.time(), time.process_time() - cpu))
        runner.stop()
        engine.dispose()


def _dispatchers(settings: Settings, count: int) -> tuple[int, float, float]:
    """Drain the outbox with `count` dispatcher processes at once: (settled, wall seconds, CPU seconds of all)."""
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Semaphore(0), context.Event(), context.Queue()
    processes = [context.Process(target=_dispatcher_process, args=(settings, ready, go, results)) for _ in range(count)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire(timeout=60)
    go.set()
    done = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(30)
    wall = max(end for _, _, end, _ in done) - min(start for _, start, _, _ in done)
    return sum(n for n, _, _, _ in done), wall, sum(cpu for _, _, _, cpu in done)


def _receiver_stats(hook_port: int) -> tuple[int, int]:
    """(webhooks, distinct webhook ids) the receiver has had so far."""
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{hook_port}/stats", timeout=10) as answer:
        stats = json.loads(answer.read())
    return int(stats["webhooks"]), int(stats["distinct"])


def _arrived(received: Any, expected: int) -> tuple[int, int]:
    """(emails, distinct Message-IDs) the SMTP sink reports, waiting up to 10 s for `expected` of them."""
    ids: list[str] = []
    deadline = time.time() + 10
    while len(ids) < expected and time.time() < deadline:
        try:
            ids.append(received.get(timeout=0.5)[0])
        except Exception:  # noqa: S112 - queue.Empty from another process's queue: keep waiting until the deadline
            continue
    time.sleep(0.5)
    while not received.empty():
        ids.append(received.get()[0])
    return len(ids), len(set(ids))


def _verdict(got: int, distinct: int, queued: int) -> str:
    if got == distinct == queued:
        return ": each once"
    return f"  <-- {queued - distinct} LOST, {got - distinct} REPEATED"


def scaling(
    engine: Engine, settings: Settings, options: argparse.Namespace, people: list[int], catalog: Catalog,
    received: Any, hook_port: int,
) -> None:  # fmt: skip
    """Webhooks/s and emails/s of 1 and of N dispatcher processes draining the same outbox (PostgreSQL: claims
    skip rows another holds), each message counted at the receivers: none lost, none sent twice."""
    kind = engine.dialect.name
    figures: dict[tuple[str, int], float] = {}
    for count in sorted({1, options.dispatchers}):
        with unit_of_work(engine) as session:
            for person in people:
                publish(session, "profile.trait_changed", person, {"trait": "first_name"}, consent=settings.consent)
        before = _receiver_stats(hook_port)
        settled, wall, cpu = _dispatchers(settings, count)
        after = _receiver_stats(hook_port)
        got, distinct = after[0] - before[0], after[1] - before[1]
        figures["webhooks", count] = settled / wall
        print(f"[{kind}] {count} dispatcher(s): webhooks {settled:,} in {wall:.2f} s = {settled / wall:,.0f}/s "
              f"({cpu / settled * 1e6:.0f} us CPU each); the receiver got {got:,} for {len(people):,} queued, "
              f"{distinct:,} distinct ids{_verdict(got, distinct, len(people))}")  # fmt: skip
        _queue(engine, settings, people, catalog)
        while not received.empty():
            received.get()
        settled, wall, cpu = _dispatchers(settings, count)
        got, distinct = _arrived(received, len(people))
        figures["emails", count] = settled / wall
        print(f"[{kind}] {count} dispatcher(s): emails {settled:,} in {wall:.2f} s = {settled / wall:,.0f}/s "
              f"({cpu / settled * 1e6:.0f} us CPU each); the sink got {got:,} for {len(people):,} queued, "
              f"{distinct:,} distinct Message-IDs{_verdict(got, distinct, len(people))}")  # fmt: skip
    if options.dispatchers > 1:
        n = options.dispatchers
        print(f"[{kind}] scaling 1 -> {n} dispatchers (load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores): "
              f"webhooks x{figures['webhooks', n] / figures['webhooks', 1]:.2f}, "
              f"emails x{figures['emails', n] / figures['emails', 1]:.2f}")  # fmt: skip


def run(database_url: str, options: argparse.Namespace, smtp_port: int, hook_port: int, received: Any) -> None:
    engine = create_db_engine(database_url)
    upgrade(engine)
    kind = engine.dialect.name
    settings = Settings(
        database_url=database_url,
        data_dir=Path(tempfile.mkdtemp(prefix="seamline-outbox-")),
        email=EmailConfig(smtp_port=smtp_port),
        # Twilio's shape (form body, Basic auth) to the loopback receiver, which answers 204 to everything.
        sms=ProviderConfig(
            provider="twilio", url=f"http://127.0.0.1:{hook_port}", account_sid="AC0", from_number="+15005550006"
        ),
        outbox=OutboxConfig(batch_size=options.batch_size, send_threads=options.threads),
    )
    catalog = Catalog(BUILTIN_DIR)
    people = _people(engine, options.messages)

    # 1. emails/s: a backlog drained by one dispatcher to the loopback sink.
    rate = _queue(engine, settings, people, catalog)
    delivered, wall, cpu = _drain(engine, settings)
    while not received.empty():
        received.get()
    print(f"[{kind}] enqueue (render + log + outbox, 500 per transaction): {rate:,.0f} messages/s")
    print(f"[{kind}] emails: {delivered:,} in {wall:.2f} s = {delivered / wall:,.0f} emails/s "
          f"(dispatcher CPU {cpu / wall:.2f} cores, {cpu / delivered * 1e6:.0f} us per email)")  # fmt: skip

    # 2. the consent check at send time, alone: CPU per message (its reads included).
    ids = [c for (c,) in _communication_ids(engine)][: options.messages]
    with unit_of_work(engine, write=False) as session:
        cpu = time.process_time()
        check_sends(session, ids, "email", settings.consent)
        per = (time.process_time() - cpu) / len(ids) * 1e6
    print(f"[{kind}] send-time check (reachability + consent policy, with its reads): {per:.0f} us CPU per message")
    choices = [
        Choice(n, people[0], "consent", "service", None, None, None, "granted", None, now, now, None, "bench", "api")
        for n, now in enumerate([datetime.now(UTC)] * 3)
    ]
    reach = {"email": Reachability(True, "email on file")}
    cpu = time.process_time()
    for _ in range(len(ids)):
        may_contact(choices, "service", "email", now=datetime.now(UTC), reachability=reach, config=settings.consent)
    per = (time.process_time() - cpu) / len(ids) * 1e6
    print(f"[{kind}] the consent policy's decision alone (3 choices in force): {per:.1f} us CPU per message")

    # 3. webhooks/s.
    with unit_of_work(engine) as session:
        create_destination(session, "bench", f"http://127.0.0.1:{hook_port}/hooks", purpose="analytics",
                           subscriptions=["profile.trait_changed"], consent=settings.consent)  # fmt: skip
        for person in people:
            publish(session, "profile.trait_changed", person, {"trait": "first_name"}, consent=settings.consent)
    delivered, wall, cpu = _drain(engine, settings)
    print(f"[{kind}] webhooks: {delivered:,} in {wall:.2f} s = {delivered / wall:,.0f} webhooks/s "
          f"(dispatcher CPU {cpu / wall:.2f} cores, {cpu / delivered * 1e6:.0f} us per webhook, "
          f"{options.threads} send threads)")  # fmt: skip

    # 3b. SMS/s: payment reminders (service consent asked per message) in Twilio's wire shape.
    rate = _queue(engine, settings, people, catalog, "payment_due", DUE, "sms")
    delivered, wall, cpu = _drain(engine, settings)
    print(f"[{kind}] SMS (Twilio shape): {delivered:,} in {wall:.2f} s = {delivered / wall:,.0f} SMS/s "
          f"(enqueue {rate:,.0f}/s; dispatcher CPU {cpu / wall:.2f} cores, "
          f"{cpu / delivered * 1e6:.0f} us per SMS)")  # fmt: skip

    # 4. latency at a steady rate: one message per transaction, as a request that causes one would.
    runner = build_dispatcher(engine, settings, unsubscribe_url=None)
    runner.start()
    sent_at: dict[str, float] = {}
    interval, count = 1.0 / options.rate, int(options.rate * options.seconds)
    start = time.perf_counter()
    for n in range(count):
        due = start + n * interval
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        with unit_of_work(engine) as session:
            view, _ = queue_message(session, people[n % len(people)], "account_notice", NOTICE, catalog=catalog,
                                    consent=settings.consent)  # fmt: skip
        sent_at[view.communication_id] = time.time()
    latencies = []
    deadline = time.time() + 30
    while len(latencies) < count and time.time() < deadline:
        try:
            message_id, arrived = received.get(timeout=1)
        except Exception:  # noqa: S112 - queue.Empty from another process's queue: keep waiting until the deadline
            continue
        if message_id in sent_at:
            latencies.append(arrived - sent_at[message_id])
    runner.stop()
    print(f"[{kind}] enqueue -> SMTP sink at {options.rate}/s for {options.seconds:g} s: {len(latencies)}/{count} "
          f"arrived, p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms, "
          f"max {max(latencies, default=0) * 1000:.0f} ms")  # fmt: skip

    # 5. how dispatchers scale: 1 and N processes on the same outbox (PostgreSQL's row locks; SQLite has one writer).
    if options.dispatchers > 1 and kind == "postgresql":
        scaling(engine, settings, options, people, catalog, received, hook_port)
    engine.dispose()


def _communication_ids(engine: Engine) -> list[tuple[str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            table_of(Communication).select().with_only_columns(table_of(Communication).c.communication_id)
        )
        return [(str(r[0]),) for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0, help="messages/s of the latency run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    parser.add_argument("--batch-size", type=int, default=200, help="messages one dispatcher claims at a time")
    parser.add_argument("--threads", type=int, default=16, help="webhook send threads of the dispatcher")
    parser.add_argument("--postgres", action="store_true", help="also on a private PostgreSQL cluster")
    parser.add_argument(
        "--dispatchers", type=int, default=1, help="on PostgreSQL, also drain with 1 and with this many processes"
    )
    parser.add_argument("--database-url", default="", help="run on this database only")
    options = parser.parse_args()

    print(f"Seamline outbox: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    context = multiprocessing.get_context("spawn")
    received, smtp_ready, hook_ready = context.Queue(), context.Event(), context.Event()
    smtp_port, hook_port = _free_port(), _free_port()
    helpers = [
        context.Process(target=_sink, args=(smtp_port, received, smtp_ready), daemon=True),
        context.Process(target=_receiver, args=(hook_port, hook_ready), daemon=True),
    ]
    for helper in helpers:
        helper.start()
    smtp_ready.wait(30)
    hook_ready.wait(30)
    time.sleep(1.0)  # uvicorn binds after the event
    cluster = None
    try:
        urls = [options.database_url] if options.database_url else [
            f"sqlite:///{Path(tempfile.mkdtemp(prefix='seamline-outbox-')) / 'seamline.db'}"
        ]  # fmt: skip
        if options.postgres and not options.database_url:
            sys.path.insert(0, str(REPO))  # tests.support.postgres starts private clusters for tests and benchmarks
            from tests.support.postgres import start_cluster

            cluster = start_cluster(durable=True)
            urls.append(cluster.url)
        for url in urls:
            run(url, options, smtp_port, hook_port, received)
    finally:
        for helper in helpers:
            helper.terminate()
        if cluster is not None:
            cluster.stop()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
