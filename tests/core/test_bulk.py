"""BulkInsert stores exactly what SQLAlchemy's own executemany stores, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Engine, Integer, MetaData, String, Table, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from seamline.core.bulk import BulkInsert
from seamline.core.db import UtcDateTime

METADATA = MetaData()
NOTES = Table(
    "bulk_test_notes",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("batch", String(16), nullable=False),
    Column("key", String(32), nullable=False),
    Column("at", UtcDateTime(), nullable=True),
    Column("doc", JSON, nullable=False),
)
COLUMNS = ["batch", "key", "at", "doc"]


@pytest.fixture
def notes(engine: Engine) -> Iterator[Table]:
    METADATA.create_all(engine)
    yield NOTES
    METADATA.drop_all(engine)


def _rows(batch: str) -> list[dict[str, Any]]:
    noon = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
    # The same instant written in another zone: an equal datetime that SQLite stores by its wall-clock time.
    same_instant = noon.astimezone(timezone(timedelta(hours=2)))
    times = [noon, noon, same_instant, None, noon + timedelta(microseconds=1), datetime(5, 1, 2, tzinfo=UTC)]
    return [
        {"batch": batch, "key": f"k{n}", "at": at, "doc": {"n": n, "nested": {"list": [1, "two"]}}}
        for n, at in enumerate(times)
    ]


def _stored(engine: Engine, batch: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                select(NOTES.c.key, NOTES.c.at, NOTES.c.doc).where(NOTES.c.batch == batch).order_by(NOTES.c.key)
            )
        ]


def _raw_times(engine: Engine, batch: str) -> list[Any]:
    """The times as the database holds them (text on SQLite), without SQLAlchemy's conversion."""
    with engine.connect() as conn:
        query = text("SELECT at FROM bulk_test_notes WHERE batch = :batch ORDER BY key")
        return [row[0] for row in conn.execute(query, {"batch": batch})]


def test_rows_are_stored_as_sqlalchemy_stores_them(engine: Engine, notes: Table) -> None:
    bulk = BulkInsert(notes, COLUMNS, lambda _dialect: insert(notes))
    with engine.begin() as conn:
        conn.execute(insert(notes), _rows("orm"))
        bulk.run_mappings(conn, _rows("bulk"))
        bulk.run_mappings(conn, _rows("again"))  # remembered times give the same text
    assert _stored(engine, "bulk") == _stored(engine, "orm") == _stored(engine, "again")
    assert _raw_times(engine, "bulk") == _raw_times(engine, "orm")
    if engine.dialect.name == "sqlite":
        raw = _raw_times(engine, "bulk")
        assert raw[0] == "2026-03-01 12:00:00.250000"
        assert raw[2] == "2026-03-01 14:00:00.250000"  # its own wall-clock time, not the equal UTC one's


def test_an_upsert_takes_its_conflict_clause_along(engine: Engine, notes: Table) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE UNIQUE INDEX bulk_test_notes_key ON bulk_test_notes (batch, key)")

    def upsert(dialect: str) -> Any:
        statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(notes)
        return statement.on_conflict_do_update(index_elements=["batch", "key"], set_={"doc": statement.excluded.doc})

    bulk = BulkInsert(notes, COLUMNS, upsert)
    with engine.begin() as conn:
        bulk.run(conn, [("u", "a", None, {"v": 1}), ("u", "b", None, {"v": 2})])
        bulk.run(conn, [("u", "a", None, {"v": 3})])
    assert [(key, doc) for key, _at, doc in _stored(engine, "u")] == [("a", {"v": 3}), ("b", {"v": 2})]


def test_columns_are_given_in_the_tables_order() -> None:
    with pytest.raises(ValueError, match="order"):
        BulkInsert(NOTES, ["key", "batch", "at", "doc"], lambda _dialect: insert(NOTES))
