"""A fast generator of the assessment benchmark's store: millions of communications, their outcomes, tracked
events, cases and trait provenance, bulk-loaded into a migrated SQLite file.

Why not the ORM or SQLAlchemy Core inserts: at 10M communications and 50M events they would take hours (the
assessment benchmark's first generator wrote ~1M communications per 10 minutes on the shared machine). This one
draws every column with numpy, a million rows at a time, and inserts tuples with the driver's `executemany` in
big transactions on a benchmark-only file with `PRAGMA synchronous=OFF, journal_mode=OFF`; the secondary indexes
are dropped for the load and created again afterwards (one sort each instead of millions of B-tree inserts), so
the file ends with exactly the schema the migrations made. Times are written as SQLAlchemy writes them on SQLite
(`YYYY-MM-DD HH:MM:SS.ffffff`, UTC).

    python benchmarks/assessment_data.py PATH --rows 10000000 --events 50000000

The mix (per communication): 90% delivered, 5% hard-bounced, 5% held (quiet hours); 35% of the delivered are
opened; ≈2.3 outcomes each. Products on the card and mortgage communications; one case per 100 communications;
`--events` tracked events, 5% of them goal events of the declared templates (Statement Viewed, Account Opened,
Documents Uploaded, Card Payment Confirmed); address provenance for up to 200,000 people (two sources for two in
three of them, one in seven disagreeing).
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute  # pa.compute

# (template, type, platform, channel, source, product): a bank's mix, declared and not (card_alert_sms is not).
KINDS = (
    ("estatement", "statement", "edelivery", "email", "core-banking", None),
    ("paper_statement", "statement", "print-vendor", "paper", "core-banking", None),
    ("card_notice", "notice", "mailer", "email", "cards-system", "CARD-GOLD"),
    ("card_alert_sms", "notice", "sms-gateway", "sms", "cards-system", "CARD-GOLD"),
    ("spring_offer", "marketing", "marketing-cloud", "email", "crm", None),
    ("mortgage_documents_needed", "service", "mailer", "email", "mortgage-system", "MTG-3"),
    ("mortgage_application_received", "service", "sms-gateway", "sms", "mortgage-system", "MTG-3"),
    ("statement_ready", "statement", "seamline", "email", "core-banking", None),
)
GOALS = ("Statement Viewed", "Account Opened", "Documents Uploaded", "Card Payment Confirmed")
OTHER_EVENTS = ("Page Viewed", "Logged In", "Balance Checked", "Transfer Made", "Card Payment")
START = np.datetime64("2026-09-01T00:00:00", "us")
SPAN_SECONDS = 90 * 86_400
CHUNK = 1_000_000
DROPPED = ("communications", "communication_outcomes", "profile_events", "cases", "profile_traits")

Strings = list[str]


def stamps(seconds: npt.NDArray[np.float64]) -> Strings:
    """Seconds after START as SQLAlchemy's SQLite text (microseconds)."""
    at = START + (seconds * 1e6).astype("timedelta64[us]")
    return [s.replace("T", " ") for s in np.datetime_as_string(at, unit="us").tolist()]


def _chunks(total: int, first: int = 1) -> Iterator[tuple[int, int]]:
    for base in range(first, first + total, CHUNK):
        yield base, min(base + CHUNK, first + total)


def _insert(db: sqlite3.Connection, table: str, columns: Sequence[str], rows: Iterator[tuple[object, ...]]) -> None:
    marks = ", ".join("?" for _ in columns)
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608  # our own table and column names, the values are bound


def communications(db: sqlite3.Connection, rows: int, people: int, first: int, seed: int) -> int:
    """`rows` communications from id `first` with their outcomes; the number of outcomes written."""
    rng = np.random.default_rng(seed)
    kinds = np.array(KINDS, dtype=object)
    (top,) = db.execute("SELECT coalesce(max(id), 0) FROM communication_outcomes").fetchone()
    outcome_id = int(top) + 1
    written = 0
    for base, end in _chunks(rows, first):
        n = end - base
        ids = np.arange(base, end)
        kind = kinds[ids % len(KINDS)]
        created = rng.uniform(0, SPAN_SECONDS, n).round(3)
        sent = created + rng.integers(1, 120, n)
        roll = rng.random(n)
        status = np.where(roll < 0.9, "delivered", np.where(roll < 0.95, "bounced_hard", "suppressed"))
        outcome_at = sent + rng.exponential(300.0, n).round(3)
        opened = (status == "delivered") & (rng.random(n) < 0.35)
        created_s, sent_s = stamps(created), stamps(sent)
        days = np.datetime_as_string(START + created.astype("timedelta64[s]"), unit="D").tolist()
        profile = rng.integers(1, people, n).tolist()
        id_list = ids.tolist()
        _insert(
            db,
            "communications",
            ("id", "communication_id", "profile_id", "type", "template", "template_version", "batch",
             "source_system", "platform", "channel", "product", "fields", "status", "created_at", "sent_at",
             "updated_at"),
            ((i, f"b-{i}", p, k[1], k[0], "1", f"{k[0]}-{d}", k[4], k[2], k[3], k[5], "{}", s, c, t, t)
             for i, p, k, d, s, c, t in zip(id_list, profile, kind.tolist(), days, status.tolist(), created_s,
                                            sent_s, strict=True)),
        )  # fmt: skip
        held = status == "suppressed"
        went = ~held
        outcome_s = stamps(outcome_at[went])
        opened_s = stamps(outcome_at[opened] + 7200.0)
        first_rows = [
            (i, "suppressed" if h else "sent", "quiet hours" if h else None, "dispatcher" if h else "event", t)
            for i, h, t in zip(id_list, held.tolist(), sent_s, strict=True)
        ]
        later = [(int(i), str(s), None, "event", t) for i, s, t in zip(ids[went], status[went], outcome_s, strict=True)]
        later += [(int(i), "opened", None, "event", t) for i, t in zip(ids[opened], opened_s, strict=True)]
        all_rows = first_rows + later
        _insert(
            db,
            "communication_outcomes",
            ("id", "communication_row_id", "outcome", "detail", "origin", "occurred_at"),
            ((outcome_id + k, *r) for k, r in enumerate(all_rows)),
        )
        outcome_id += len(all_rows)
        written += len(all_rows)
        db.commit()
    return written


def events(db: sqlite3.Connection, total: int, people: int, seed: int) -> None:
    """`total` tracked events, 5% of them goal events, spread over the 90 days and `people` people."""
    rng = np.random.default_rng(seed)
    names = np.array(GOALS + OTHER_EVENTS, dtype=object)
    weights = np.array([0.05 / len(GOALS)] * len(GOALS) + [0.95 / len(OTHER_EVENTS)] * len(OTHER_EVENTS))
    for base, end in _chunks(total):
        n = end - base
        name = rng.choice(names, n, p=weights).tolist()
        at = stamps(rng.uniform(0, SPAN_SECONDS, n).round(3))
        profile = rng.integers(1, people, n).tolist()
        _insert(
            db,
            "profile_events",
            ("event_id", "profile_id", "source_id", "type", "name", "occurred_at"),
            ((i, p, 1, "track", m, t) for i, p, m, t in zip(range(base, end), profile, name, at, strict=True)),
        )
        db.commit()


def cases_and_traits(db: sqlite3.Connection, count: int, people: int, seed: int) -> None:
    """`count` cases (phone calls) and address provenance for up to 200,000 people."""
    rng = np.random.default_rng(seed)
    opened = stamps(rng.uniform(0, SPAN_SECONDS, count).round(3))
    _insert(
        db,
        "cases",
        ("profile_id", "origin_profile_id", "subject", "priority", "status", "queue", "channel", "opened_by",
         "opened_at", "updated_at"),
        ((int(p), 1, "call", "normal", "open", "general", "phone", "bench", t, t)
         for p, t in zip(rng.integers(1, people, count), opened, strict=True)),
    )  # fmt: skip
    traits = []
    for p in range(1, min(people, 200_000)):
        for source in (1, 2) if p % 3 else (1,):
            value = f"addr-{p}" if source == 1 or p % 7 else f"addr-{p}-moved"
            at = f"2026-09-{1 + source * 10:02d} 00:00:00.000000"
            traits.append((p, "address", f'"{value}"', value, source, 1, 1, at, at, 1))
    _insert(
        db,
        "profile_traits",
        ("profile_id", "name", "value_json", "value_hash", "source_id", "first_event_id", "last_event_id",
         "first_seen_at", "last_seen_at", "times_seen"),
        iter(traits),
    )  # fmt: skip
    db.commit()


def generate(path: Path, rows: int, events_total: int, people: int) -> dict[str, float]:
    """Fill a migrated SQLite file; the seconds each part took."""
    db = sqlite3.connect(path, isolation_level="DEFERRED")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")  # 400 MB of page cache for the index builds
    marks = ", ".join(f"'{t}'" for t in DROPPED)
    indexes = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})"  # noqa: S608  # our own table and column names, the values are bound
    ).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    took: dict[str, float] = {}
    began = time.perf_counter()
    outcomes = communications(db, rows, people, 1, seed=1)
    took["communications"] = time.perf_counter() - began
    began = time.perf_counter()
    events(db, events_total, people, seed=2)
    took["events"] = time.perf_counter() - began
    began = time.perf_counter()
    cases_and_traits(db, max(rows // 100, 10), people, seed=3)
    took["cases and traits"] = time.perf_counter() - began
    began = time.perf_counter()
    for _, sql in indexes:
        db.execute(sql)
    db.commit()
    took["indexes"] = time.perf_counter() - began
    took["outcomes"] = float(outcomes)
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="a SQLite file to create (migrated first)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="communications")
    parser.add_argument("--events", type=int, default=0, help="tracked events (default: 5 per communication)")
    parser.add_argument("--people", type=int, default=0, help="default: rows / 10")
    args = parser.parse_args()
    from seamline.core.db import create_db_engine
    from seamline.core.migrations import upgrade

    engine = create_db_engine(f"sqlite:///{args.path}")
    upgrade(engine)
    engine.dispose()
    began = time.perf_counter()
    took = generate(args.path, args.rows, args.events or args.rows * 5, args.people or max(args.rows // 10, 100))
    print(f"generated in {time.perf_counter() - began:.0f} s: " + ", ".join(f"{k} {v:,.0f}" for k, v in took.items()))


if __name__ == "__main__":
    main()


def copy_tables(rows: int, events_total: int, people: int, seed: int = 1) -> dict[str, pa.Table]:
    """The same mix as the store's, as the assessment's repository reads it into the columnar copy (times as epoch
    seconds; only the goal events, 5% of `events_total`, since the copy reads no other): for timing the reports on
    a copy of any size without a store under it (`Replica.load`)."""
    rng = np.random.default_rng(seed)
    start = float(START.astype("datetime64[s]").astype(np.int64))
    ids = np.arange(1, rows + 1)
    kind = ids % len(KINDS)
    column = {k: np.array([row[i] for row in KINDS], dtype=object) for i, k in enumerate(
        ("template", "type", "platform", "channel", "source_system", "product"))}  # fmt: skip
    created = rng.uniform(0, SPAN_SECONDS, rows).round(3)
    sent = created + rng.integers(1, 120, rows)
    roll = rng.random(rows)
    status = np.where(roll < 0.9, "delivered", np.where(roll < 0.95, "bounced_hard", "suppressed"))
    day = (created // 86_400).astype(np.int64)
    batch = pa.compute.binary_join_element_wise(pa.array(column["template"][kind]), pa.array(day.astype(str)), "-")
    communications = pa.table({
        "id": pa.array(ids, pa.int64()),
        "communication_id": pa.compute.binary_join_element_wise("b", pa.array(ids.astype(str)), "-"),
        "profile_id": pa.array(rng.integers(1, people, rows), pa.int64()),
        "type": pa.array(column["type"][kind], pa.string()),
        "template": pa.array(column["template"][kind], pa.string()),
        "template_version": pa.array(np.full(rows, "1", dtype=object), pa.string()),
        "batch": batch,
        "source_system": pa.array(column["source_system"][kind], pa.string()),
        "platform": pa.array(column["platform"][kind], pa.string()),
        "channel": pa.array(column["channel"][kind], pa.string()),
        "product": pa.array(column["product"][kind], pa.string()),
        "status": pa.array(status, pa.string()),
        "created_at": pa.array(start + created), "sent_at": pa.array(start + sent),
        "updated_at": pa.array(start + sent),
    })  # fmt: skip
    held = status == "suppressed"
    went = ~held
    outcome_at = sent + rng.exponential(300.0, rows).round(3)
    opened = (status == "delivered") & (rng.random(rows) < 0.35)
    row_id = np.concatenate([ids, ids[went], ids[opened]])
    outcome = np.concatenate([np.where(held, "suppressed", "sent"), status[went], np.full(opened.sum(), "opened")])
    detail = np.concatenate([np.where(held, "quiet hours", ""), np.full(went.sum() + opened.sum(), "")])
    at = np.concatenate([sent, outcome_at[went], outcome_at[opened] + 7200.0])
    outcomes = pa.table({
        "id": pa.array(np.arange(1, len(row_id) + 1), pa.int64()), "row_id": pa.array(row_id, pa.int64()),
        "outcome": pa.array(outcome, pa.string()), "detail": pa.array(detail, pa.string()),
        "occurred_at": pa.array(start + at),
    })  # fmt: skip
    goal_count = events_total // 20
    events = pa.table({
        "id": pa.array(np.arange(1, goal_count + 1), pa.int64()),
        "profile_id": pa.array(rng.integers(1, people, goal_count), pa.int64()),
        "name": pa.array(rng.choice(np.array(GOALS, dtype=object), goal_count), pa.string()),
        "occurred_at": pa.array(start + rng.uniform(0, SPAN_SECONDS, goal_count).round(3)),
    })  # fmt: skip
    case_count = max(rows // 100, 10)
    cases = pa.table({
        "id": pa.array(np.arange(1, case_count + 1), pa.int64()),
        "profile_id": pa.array(rng.integers(1, people, case_count), pa.int64()),
        "channel": pa.array(np.full(case_count, "phone", dtype=object), pa.string()),
        "opened_at": pa.array(start + rng.uniform(0, SPAN_SECONDS, case_count).round(3)),
    })  # fmt: skip
    holders = np.arange(1, min(people, 200_000))
    twice = holders[holders % 3 != 0]
    profile = np.concatenate([holders, twice])
    source = np.concatenate([np.ones(len(holders), np.int64), np.full(len(twice), 2, np.int64)])
    moved = (source == 2) & (profile % 7 == 0)
    traits = pa.table({
        "id": pa.array(np.arange(1, len(profile) + 1), pa.int64()), "profile_id": pa.array(profile, pa.int64()),
        "name": pa.array(np.full(len(profile), "address", dtype=object), pa.string()),
        "source_id": pa.array(source, pa.int64()),
        "value_hash": pa.array(np.char.add(np.char.add("addr-", profile.astype(str)),
                                           np.where(moved, "-moved", "")).astype(object), pa.string()),
        "first_seen_at": pa.array(start + source * 10 * 86_400.0),
    })  # fmt: skip
    from seamline.assessment import repository

    return {
        "communications": communications, "outcomes": outcomes, "cases": cases, "events": events,
        "traits": traits, "outbox": repository.OUTBOX.empty_table(),
    }  # fmt: skip
