"""The worker loop: in `seamline serve`'s child process (or a thread of it), or alone under `seamline worker`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from seamline.config import Settings
from seamline.core import collector
from seamline.core.clock import utcnow
from seamline.core.db import is_sqlite, unit_of_work
from seamline.decisions.service import Setup
from seamline.identity.graph import StaleGraph
from seamline.ingestion.service import AlreadyProcessed, InboxItem, claim_batch, finish_batch, quarantine_event
from seamline.observability.metrics import Metrics
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import PreparedEvents, apply_prepared, is_current, prepare_events, process_events
from seamline.worker.pacing import BatchPacer
from seamline.worker.schedule import Job, Schedule, default_jobs
from seamline.worker.triggers import feedback_setup, trigger_engine

log = logging.getLogger(__name__)
STALE_RETRIES = 20
# How often rules on a schedule are looked at (each has its own period): a run under way takes a page a turn.
TRIGGER_SCHEDULES_EVERY = timedelta(seconds=1)
TRIGGER_STEPS_EVERY = timedelta(seconds=1)  # how late a delayed trigger step may run (its delays are minutes or days)
# A batch that fails is run again one event at a time; an event that fails this many times in a row is quarantined.
QUARANTINE_AFTER = 3
# On SQLite a batch is the oldest events of the whole inbox, so its size changes only the cost: each batch ends in
# a synced commit (1M events over 100k people: 14.0k events/s at 1,000, 16.1k at 5,000). On PostgreSQL a batch is
# the oldest events of the partitions a worker claimed, so a bigger one runs further ahead of the other partitions
# (and holds its locks longer): it keeps the size it had.
SQLITE_BATCH_SIZE = 5000
POSTGRES_BATCH_SIZE = 1000


class EventsFailed(Exception):
    """The pipeline failed on these events (their transaction was rolled back)."""

    def __init__(self, event_ids: Sequence[int], cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.event_ids = list(event_ids)
        self.reason = f"{type(cause).__name__}: {cause}"


class Worker:
    """Runs batches until stopped; sleeps briefly when the inbox is empty."""

    def __init__(
        self, engine: Engine, settings: Settings, metrics: Metrics | None = None, pipeline: Pipeline | None = None
    ) -> None:
        self._engine = engine
        self._settings = settings
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pipeline = pipeline or Pipeline(
            settings.identity,
            settings.consent,
            settings.traits,
            triggers=trigger_engine(settings),
            decisions=Setup.build(settings.decisions, settings.consent, settings.survivorship, settings.cases),
            feedback=feedback_setup(settings),
        )
        default_size = SQLITE_BATCH_SIZE if is_sqlite(engine) else POSTGRES_BATCH_SIZE
        self._batch_size = settings.worker_batch_size or default_size
        # On SQLite a batch is read and resolved before the write lock is taken (see _run_batch); on PostgreSQL
        # the claim's row locks must be taken first, and writers do not wait for one another's transactions.
        self._reads_ahead = is_sqlite(engine)
        self.replanned = 0  # batches read ahead whose plan went stale before the write lock: run again under it
        self._pacer: BatchPacer | None = None  # set by run_forever: a worker beside a live API on SQLite
        # Periodic jobs, run between batches: the stall scan, the error clocks, and the triggers' due steps.
        steps = Job("triggers.due_steps", TRIGGER_STEPS_EVERY, self._trigger_steps)
        scheduled = Job("triggers.schedules", TRIGGER_SCHEDULES_EVERY, self._trigger_schedules)
        self.schedule = Schedule(engine, [*default_jobs(settings), steps, scheduled])
        self.processed = 0

    def _resolve(self, session: Session, items: Sequence[InboxItem]) -> None:
        try:
            process_events(session, items, self._pipeline)
        except (OperationalError, StaleGraph):
            raise
        except Exception as exc:
            raise EventsFailed([i.id for i in items], exc) from exc

    def _prepare(self, batch_size: int) -> PreparedEvents:
        """Read a batch and resolve its graph in a read transaction, which waits for no writer (SQLite's WAL)."""
        with unit_of_work(self._engine, write=False) as session:
            items = claim_batch(
                session, batch_size=batch_size, partitions_per_claim=self._settings.worker_partitions_per_claim
            ).items
            try:
                return prepare_events(session, items, self._pipeline)
            except (OperationalError, StaleGraph):
                raise
            except Exception as exc:
                raise EventsFailed([i.id for i in items], exc) from exc

    def _apply(self, session: Session, prepared: PreparedEvents) -> None:
        try:
            apply_prepared(session, prepared, self._pipeline)
        except (OperationalError, StaleGraph):
            raise
        except Exception as exc:
            raise EventsFailed([i.id for i in prepared.items], exc) from exc

    def run_once(self) -> int:
        """One batch in one transaction; returns how many events it handled (processed, or quarantined).

        A batch that fails is not lost: nothing of it was committed, and its events are run again one at a time,
        so the one that fails is found and, after QUARANTINE_AFTER failures, quarantined with its reason.
        """
        try:
            return self._run_batch(self._pacer.size if self._pacer is not None else self._batch_size)
        except EventsFailed as failed:
            log.warning("a batch of %d events failed (%s); running them one at a time", len(failed.event_ids), failed)
            if self._metrics is not None:
                self._metrics.event_failures.inc()
            return self._isolate(len(failed.event_ids))

    def _isolate(self, count: int) -> int:
        """Run up to `count` events one per transaction, quarantining each that keeps failing; returns how many
        were handled (processed or set aside), so that a drain goes on past them."""
        handled = 0
        failures: dict[int, int] = {}
        while handled < count:
            try:
                processed = self._run_batch(1)
            except EventsFailed as failed:
                [event_id] = failed.event_ids
                failures[event_id] = failures.get(event_id, 0) + 1
                if self._metrics is not None:
                    self._metrics.event_failures.inc()
                if failures[event_id] >= QUARANTINE_AFTER:
                    log.error("event %d failed %d times (%s); quarantined", event_id, QUARANTINE_AFTER, failed.reason)
                    with unit_of_work(self._engine) as session:
                        quarantine_event(session, event_id, failed.reason, failures[event_id])
                    handled += 1
                continue
            if processed == 0:
                break
            handled += processed
        return handled

    def _run_batch(self, batch_size: int) -> int:
        """Claim a batch, run it through the pipeline and mark it processed, in one transaction; how many.

        On SQLite the batch is first read and resolved in a read transaction (the inbox rows, the erasure check,
        identity's plan), and the write transaction only checks that the change feed's mark has not moved since,
        then writes: the write lock, which every API request waits for, is held for the writes alone. When the
        mark moved (a correction, an import, an erasure, another worker), the batch is claimed and run again
        under the lock, as on PostgreSQL. Its events are marked processed in the same transaction as their effects,
        and only those still pending: one that was not (another worker's) rolls the whole batch back.
        """
        holding: list[float] = []  # when the write transaction held the lock: from then until its commit
        for _attempt in range(STALE_RETRIES):
            holding.clear()
            try:
                with collector.paused():
                    prepared = self._prepare(batch_size) if self._reads_ahead else None
                    if prepared is not None and not prepared.items:
                        return 0  # nothing waits: no write transaction at all
                    with unit_of_work(self._engine) as session:
                        if prepared is not None and is_current(session, prepared):
                            holding.append(time.perf_counter())
                            items = prepared.items
                            self._apply(session, prepared)
                        else:
                            self.replanned += prepared is not None
                            items = claim_batch(
                                session,
                                batch_size=batch_size,
                                partitions_per_claim=self._settings.worker_partitions_per_claim,
                            ).items
                            if items:
                                holding.append(time.perf_counter())
                                self._resolve(session, items)
                        if items:
                            finish_batch(session, items)
                # Committed: what the batch learnt of the graph may be kept for the next (identity.graphcache).
                self._pipeline.graph_cache.confirm()
            except (StaleGraph, AlreadyProcessed):
                # Another worker merged a profile this batch had loaded, or took some of its events; nothing was
                # committed: run it again.
                continue
            if self._pacer is not None and holding and batch_size > 1:  # one event at a time is isolation, not pace
                self._pacer.record(len(items), time.perf_counter() - holding[0], batch_size)
            self.processed += len(items)
            if self._metrics is not None and items:
                self._metrics.events_processed.inc(len(items))
            return len(items)
        raise StaleGraph(f"the batch found stale profiles {STALE_RETRIES} times in a row")

    def _trigger_schedules(self, session: Session, now: datetime) -> int:
        engine = self._pipeline.triggers.engine
        return engine.run_schedules(session, now) if engine is not None else 0

    def _trigger_steps(self, session: Session, now: datetime) -> int:
        engine = self._pipeline.triggers.engine
        if engine is None:
            return 0
        engine.book.refresh()  # a rule folder made or changed while the inbox is quiet
        if not len(engine.book.index):
            return 0
        return self._pipeline.triggers.run_due(session, now)

    def run_due(self) -> int:
        """Do the trigger steps due now, in one transaction; how many were taken."""
        with unit_of_work(self._engine) as session:
            return self._trigger_steps(session, utcnow())

    def drain(self) -> int:
        """Process until nothing is pending that this worker can claim."""
        total = 0
        while (count := self.run_once()) > 0:
            total += count
        return total

    def run_forever(self) -> None:
        if is_sqlite(self._engine) and self._settings.worker_batch_seconds > 0:
            # Beside a live API, whose writes wait for each of this worker's transactions (worker.pacing).
            self._pacer = BatchPacer(self._settings.worker_batch_seconds, self._batch_size)
        log.info("worker started")
        while not self._stop.is_set():
            try:
                count = self.run_once()
            except (OperationalError, StaleGraph):
                # A lost connection, a lock timeout or a deadlock: nothing was committed, so the batch is retried.
                log.exception("worker batch failed; retrying")
                count = 0
            try:
                self.schedule.run_due()
            except Exception:  # a failing job rolled back whole; it is tried again when next due
                log.exception("a periodic job failed")
            if count == 0:
                self._stop.wait(self._settings.worker_idle_seconds)
        log.info("worker stopped after %d events", self.processed)

    @property
    def is_running(self) -> bool:
        """Whether the thread `start` began is still running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="seamline-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def stop_soon(self) -> None:
        """Ask the loop to end after its current batch (for signal handlers)."""
        self._stop.set()
