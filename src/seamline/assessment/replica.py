"""The columnar copy the reports run on: the store's columns loaded into an in-memory DuckDB through Arrow.

Why DuckDB through Arrow (docs/assessment.md has the figures): the reports group millions of communications by
four keys, take p50/p95 latencies and join messages to later events and cases by time window — aggregations a
column store does in a fraction of a second, which SQLite cannot (no percentiles) and a row store does slowly.
DuckDB cannot read the store itself here (its sqlite_scanner and postgres extensions are not installable), so the
copy is loaded from the store as Arrow batches: whole on the first report, then only what changed (rows above
each table's watermark, communications updated since the last read, and the trait candidates again when an
erasure deleted some), and rebuilt whole every `rebuild_seconds`. It holds no personal content: ids, names of
systems and templates, outcomes, times, value hashes, and of the outcomes' details only a suppression's (why a
message was held). Erasure empties a communication's content, which the copy never reads, and its outcomes'
details, which the copy reads again for every communication changed since its last read (an erasure touches
`updated_at`); it deletes trait candidates, which the copy drops at its next catch-up. It lives in this
process's memory only.

One row per communication (`facts`) carries its outcome flags and times; beside it, per-day counts and latency
histograms, the messages that converted or were followed by a contact, and who collected each field first
(rollup.py), so every report over whole days reads thousands of rows, not every message.
"""

# ruff: noqa: S608  # the only text spliced into these statements is a fixed table name or the facts' fixed WHERE
# clause; no value from outside.

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from seamline.assessment import repository, rollup
from seamline.assessment.rollup import Goal

Opener = Callable[[], AbstractContextManager[Session]]

# One row per communication: what it is, where it went, and what came of it (from its outcome history, and its
# status for logs that carry no history).
_FACTS = """
SELECT c.id, c.communication_id, c.profile_id, c.type,
       coalesce(c.template, '(' || c.type || ')') AS communication,
       c.template_version, c.batch, coalesce(c.source_system, '(unknown source)') AS source_system, c.platform,
       c.channel, c.product, c.created_at,
       coalesce(min(o.occurred_at) FILTER (WHERE o.outcome IN ('accepted', 'printed', 'sent')), c.sent_at,
                c.created_at) AS sent_at,
       min(o.occurred_at) FILTER (WHERE o.outcome IN ('delivered', 'opened', 'clicked')) AS delivered_at,
       (coalesce(bool_or(o.outcome IN ('delivered', 'opened', 'clicked', 'printed')), false)
         OR c.status IN ('delivered', 'opened', 'clicked', 'printed'))
         AND NOT coalesce(bool_or(o.outcome IN ('bounced_hard', 'bounced_soft')), false) AS is_delivered,
       coalesce(bool_or(o.outcome IN ('opened', 'clicked')), false) OR c.status IN ('opened', 'clicked') AS is_opened,
       coalesce(bool_or(o.outcome = 'clicked'), false) OR c.status = 'clicked' AS is_clicked,
       coalesce(bool_or(o.outcome IN ('bounced_hard', 'bounced_soft')), false)
         OR c.status IN ('bounced_hard', 'bounced_soft') AS is_bounced,
       coalesce(bool_or(o.outcome = 'failed'), false) OR c.status = 'failed' AS is_failed,
       coalesce(bool_or(o.outcome = 'suppressed'), false) OR c.status = 'suppressed' AS is_suppressed,
       coalesce(bool_or(o.outcome = 'complained'), false) OR c.status = 'complained' AS is_complained,
       coalesce(bool_or(o.outcome = 'unsubscribed'), false) OR c.status = 'unsubscribed' AS is_unsubscribed,
       min(o.detail) FILTER (WHERE o.outcome = 'suppressed') AS held_reason
FROM communications c LEFT JOIN outcomes o ON o.row_id = c.id
{where}
GROUP BY c.id, c.communication_id, c.profile_id, c.type, c.template, c.template_version, c.batch, c.source_system,
         c.platform, c.channel, c.product, c.created_at, c.sent_at, c.status
"""


@dataclass
class Marks:
    """How far each table has been read."""

    communication: int = 0
    outcome: int = 0
    case: int = 0
    event: int = 0
    trait: int = 0
    read_at: float = 0.0  # epoch seconds of the last read (communications updated since are read again)
    built_at: float = -1e18  # monotonic time of the last whole build (never: the first read builds, however
    # long the machine has been up — monotonic time starts at boot, and a day-long rebuild period would skip it)
    goals: tuple[Goal, ...] = ()  # (communication, goal event, window seconds) the copy was built for


@dataclass
class Replica:
    """An in-memory DuckDB holding the columns the reports need, refreshed from the store on demand."""

    refresh_seconds: float = 5.0
    rebuild_seconds: float = 600.0
    contact_seconds: float = 7 * 86_400.0  # a case within this long after a message is a contact after
    late_seconds: float = 24 * 3600.0  # a delivery this long after sending is late (the bottlenecks' counts)
    con: duckdb.DuckDBPyConnection = field(default_factory=lambda: duckdb.connect(":memory:"))
    marks: Marks = field(default_factory=Marks)
    sources: dict[int, str] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _checked: float = -1e18  # monotonic time of the last refresh

    def close(self) -> None:
        """Free the copy and DuckDB's threads (its connection would otherwise live until the process ends)."""
        with self._lock:
            self.con.close()

    @contextmanager
    def reading(self, opener: Opener, goals: Sequence[Goal]) -> Iterator[duckdb.DuckDBPyConnection]:
        """Bring the copy up to date (at most every `refresh_seconds`), then hold it for one report's queries."""
        with self._lock:
            now = time.monotonic()
            wanted = tuple(sorted(set(goals)))
            if now - self.marks.built_at >= self.rebuild_seconds or wanted != self.marks.goals:
                with opener() as session:
                    self._build(session, wanted)
                self._checked = time.monotonic()
            elif now - self._checked >= self.refresh_seconds:
                with opener() as session:
                    self._catch_up(session)
                self._checked = time.monotonic()
            yield self.con

    def _build(self, session: Session, goals: tuple[Goal, ...]) -> None:
        read_at = time.time()
        tables = {
            "communications": repository.communications(session),
            "outcomes": repository.outcomes(session),
            "cases": repository.cases(session),
            "events": repository.goal_events(session, [g[1] for g in goals]),
            "traits": repository.traits(session),
            "outbox": repository.outbox_open(session),
        }
        self.load(tables, goals, repository.source_names(session), read_at)

    def load(self, tables: dict[str, pa.Table], goals: Sequence[Goal], sources: dict[int, str], read_at: float) -> None:
        """Make the copy from the store's tables as `repository` reads them (read at `read_at`, epoch seconds).
        The benchmark loads generated tables this way to time the reports on a copy of any size."""
        wanted = tuple(sorted(set(goals)))
        self.sources = sources
        con = self.con
        for name, table in tables.items():
            con.register("incoming", table)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute(f"CREATE OR REPLACE TABLE facts AS {_FACTS.format(where='')}")
        rollup.build(con, wanted, self.contact_seconds, self.late_seconds)
        self.marks = Marks(
            communication=_top(tables["communications"]),
            outcome=_top(tables["outcomes"]),
            case=_top(tables["cases"]),
            event=_top(tables["events"]),
            trait=_top(tables["traits"]),
            read_at=read_at - 1.0,  # a second's overlap: a change committed while we read is read again
            built_at=time.monotonic(),
            goals=wanted,
        )
        self._checked = time.monotonic()

    def _catch_up(self, session: Session) -> None:
        marks = self.marks
        read_at = time.time()
        fresh = repository.communications(session, after_id=marks.communication)
        changed = repository.communications(session, changed_since=marks.read_at)
        outcomes = repository.outcomes(session, after_id=marks.outcome)
        con = self.con
        touched: set[int] = set()
        for table in (fresh, changed):
            if table.num_rows:
                con.register("incoming", table)
                con.execute("DELETE FROM communications WHERE id IN (SELECT id FROM incoming)")
                con.execute("INSERT INTO communications SELECT * FROM incoming")
                con.unregister("incoming")
                touched.update(int(i) for i in table.column("id").to_pylist() if i is not None)
        if outcomes.num_rows:
            _append(con, "outcomes", outcomes)
            touched.update(int(i) for i in outcomes.column("row_id").to_pylist() if i is not None)
        if changed.num_rows:  # an erasure among the changes empties details the copy holds: read them again
            ids = [int(i) for i in changed.column("id").to_pylist() if i is not None]
            con.register("incoming", repository.held_reasons(session, ids))
            con.execute("UPDATE outcomes SET detail = i.detail FROM incoming i WHERE outcomes.id = i.id")
            con.unregister("incoming")
        days: set[int] = set()
        people: set[int] = set()
        if touched:
            con.register("touched", pa.table({"id": pa.array(sorted(touched), pa.int64())}))
            days |= rollup.days_of(con)  # the days these messages were counted under before
            con.execute("DELETE FROM facts WHERE id IN (SELECT id FROM touched)")
            con.execute(f"INSERT INTO facts {_FACTS.format(where='WHERE c.id IN (SELECT id FROM touched)')}")
            days |= rollup.days_of(con)
            found = con.execute("SELECT DISTINCT profile_id FROM facts WHERE id IN (SELECT id FROM touched)")
            people.update(int(p) for (p,) in found.fetchall() if p is not None)
            con.unregister("touched")
        cases = repository.cases(session, after_id=marks.case)
        events = repository.goal_events(session, [g[1] for g in marks.goals], after_id=marks.event)
        traits = repository.traits(session, after_id=marks.trait)
        for name, table in (("cases", cases), ("events", events), ("traits", traits)):
            _append(con, name, table)
        for table in (cases, events):  # a later goal event or case may make an earlier message count
            people.update(int(p) for p in table.column("profile_id").to_pylist() if p is not None)
        rollup.refresh(con, days, people, self.contact_seconds, self.late_seconds)
        [(held,)] = con.execute("SELECT count(*) FROM traits").fetchall()
        if int(held) != repository.trait_count(session):
            # An erasure deleted trait candidates: the copy forgets them now, not at the next whole build.
            con.register("incoming", repository.traits(session))
            con.execute("CREATE OR REPLACE TABLE traits AS SELECT * FROM incoming")
            con.unregister("incoming")
            rollup.collected(con, None)
        else:
            rollup.collected(con, {int(p) for p in traits.column("profile_id").to_pylist() if p is not None})
        con.register("incoming", repository.outbox_open(session))
        con.execute("CREATE OR REPLACE TABLE outbox AS SELECT * FROM incoming")
        con.unregister("incoming")
        self.sources = repository.source_names(session)
        self.marks = Marks(
            communication=max(marks.communication, _top(fresh)),
            outcome=max(marks.outcome, _top(outcomes)),
            case=max(marks.case, _top(cases)),
            event=max(marks.event, _top(events)),
            trait=max(marks.trait, _top(traits)),
            read_at=read_at - 1.0,
            built_at=marks.built_at,
            goals=marks.goals,
        )


def _top(table: pa.Table) -> int:
    if table.num_rows == 0:
        return 0
    top = pc.max(table.column("id")).as_py()
    return int(top) if top is not None else 0


def _append(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    if table.num_rows:
        con.register("incoming", table)
        con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        con.unregister("incoming")
