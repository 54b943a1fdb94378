"""Prepared statements on both databases: the same rows and types as SQLAlchemy gives, in a snapshot or a session."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import pytest
from sqlalchemy import JSON, Boolean, Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select, text

from seamline.core.db import UtcDateTime, unit_of_work
from seamline.core.prepared import Prepared, in_slots, read_snapshot, slot_values, write_transaction

probe_metadata = MetaData()
probe = Table(
    "prepared_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("at", UtcDateTime(), nullable=True),
    Column("detail", JSON, nullable=True),
    Column("flag", Boolean, nullable=True),
)
AT = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
ROWS = [
    {"id": 1, "name": "ada", "at": AT, "detail": {"tier": "gold", "n": [1, 2]}, "flag": True},
    {"id": 2, "name": "ada", "at": None, "detail": None, "flag": False},
    {"id": 3, "name": "bob", "at": AT, "detail": {}, "flag": None},
]
BY_NAME = select(probe).where(probe.c.name == bindparam("name")).order_by(probe.c.id)
AFTER = text("SELECT id, at FROM prepared_probe WHERE at >= :since AND name = :name ORDER BY id").columns(
    probe.c.id, probe.c.at
)


@pytest.fixture
def stored(engine: Engine) -> Iterator[None]:
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(probe), ROWS)
    yield
    probe_metadata.drop_all(engine)


@pytest.mark.usefixtures("stored")
def test_rows_and_types_are_what_sqlalchemy_gives_in_a_snapshot_and_in_a_session(engine: Engine) -> None:
    prepared = Prepared(BY_NAME)
    with engine.connect() as conn:
        expected = [tuple(row) for row in conn.execute(BY_NAME, {"name": "ada"})]
    with read_snapshot(engine) as reads:
        from_snapshot = prepared.all(reads, name="ada")
    with unit_of_work(engine, write=False) as session:
        from_session = prepared.all(session, name="ada")
    assert [tuple(row) for row in from_snapshot] == expected == [tuple(row) for row in from_session]
    first = from_snapshot[0]
    assert first.at == AT
    assert first.at.tzinfo is not None
    assert first.detail == {"tier": "gold", "n": [1, 2]}
    assert first.flag is True
    assert from_snapshot[1].flag is False
    assert from_snapshot[1].at is None
    assert from_snapshot[1].detail is None


class Probe(NamedTuple):
    id: int
    name: str
    at: datetime | None
    detail: dict[str, Any] | None
    flag: bool | None


class IdAt(NamedTuple):
    id: int
    at: datetime | None


class Swapped(NamedTuple):
    at: datetime | None
    id: int


@pytest.mark.usefixtures("stored")
def test_a_read_given_a_row_type_returns_rows_of_that_type_converted_as_untyped_rows_are(engine: Engine) -> None:
    typed, untyped = Prepared(BY_NAME, Probe), Prepared(BY_NAME)
    after = Prepared(AFTER.bindparams(bindparam("since", type_=UtcDateTime())), IdAt)
    with read_snapshot(engine) as reads:
        rows = typed.all(reads, name="ada")
        assert all(type(row) is Probe for row in rows)
        assert rows == [tuple(row) for row in untyped.all(reads, name="ada")]
        assert rows[0] == Probe(1, "ada", AT, {"tier": "gold", "n": [1, 2]}, True)
        first = after.first(reads, since=AT, name="bob")
        assert first == IdAt(3, AT)
        assert first is not None
        assert first.at is not None
        assert first.at.tzinfo is not None
        assert after.first(reads, since=AT, name="nobody") is None


def test_a_row_type_whose_fields_are_not_the_statements_columns_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match=r"IdAt has the fields \('id', 'at'\); the statement's columns are \('id', "):
        Prepared(BY_NAME, IdAt)  # too few
    with pytest.raises(ValueError, match="the statement's columns are"):
        Prepared(AFTER, Swapped)  # the same names in another order


@pytest.mark.usefixtures("stored")
def test_parameters_are_converted_by_their_types_and_bound_by_name(engine: Engine) -> None:
    prepared = Prepared(AFTER.bindparams(bindparam("since", type_=UtcDateTime())))
    with read_snapshot(engine) as reads:
        assert [row.id for row in prepared.all(reads, since=AT, name="ada")] == [1]
        assert prepared.all(reads, name="bob", since=datetime(2027, 1, 1, tzinfo=UTC)) == []
        assert prepared.first(reads, since=AT, name="bob").id == 3
        assert prepared.first(reads, since=AT, name="nobody") is None


@pytest.mark.usefixtures("stored")
def test_a_snapshot_sees_one_state_and_changes_nothing(engine: Engine) -> None:
    prepared = Prepared(BY_NAME)
    with read_snapshot(engine) as reads:
        before = prepared.all(reads, name="bob")
        with engine.begin() as conn:
            conn.execute(insert(probe), [{"id": 4, "name": "bob"}])
        during = prepared.all(reads, name="bob")
    with read_snapshot(engine) as reads:
        after = prepared.all(reads, name="bob")
    assert [row.id for row in after] == [3, 4]
    if engine.dialect.name == "sqlite":
        assert [row.id for row in during] == [row.id for row in before] == [3]  # one view for the whole read
    else:
        assert [row.id for row in during] == [3, 4]  # read committed, like a unit of work's session


def test_a_statement_with_an_expanding_list_is_refused_when_first_run(engine: Engine) -> None:
    prepared = Prepared(select(probe.c.id).where(probe.c.name.in_(bindparam("names", expanding=True))))
    with read_snapshot(engine) as reads, pytest.raises(ValueError, match="IN-list"):
        prepared.all(reads, names=["ada"])


INSERT = Prepared(insert(probe).inline().values(id=bindparam("id"), name=bindparam("name"), at=bindparam("at")))


@pytest.mark.usefixtures("stored")
def test_a_write_transaction_commits_when_its_block_ends_and_rolls_back_when_it_raises(engine: Engine) -> None:
    with write_transaction(engine) as transaction:
        INSERT.run_many(transaction, [{"id": 10, "name": "cy", "at": AT}, {"id": 11, "name": "cy", "at": None}])

    def fail_half_way() -> None:
        with write_transaction(engine) as transaction:
            INSERT.run_many(transaction, [{"id": 12, "name": "cy", "at": AT}])
            raise RuntimeError("the writer failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        fail_half_way()
    with engine.connect() as conn:
        rows = conn.execute(select(probe.c.id, probe.c.at).where(probe.c.name == "cy").order_by(probe.c.id)).all()
    assert [tuple(row) for row in rows] == [(10, AT), (11, None)]  # the timestamp stored as SQLAlchemy stores it


@pytest.mark.usefixtures("stored")
def test_a_write_transaction_takes_its_turn_with_the_units_of_work_that_write(engine: Engine) -> None:
    entered, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def hold_a_write() -> None:
        with unit_of_work(engine) as session:
            session.execute(insert(probe), [{"id": 20, "name": "held"}])
            entered.set()
            release.wait(10)
        finished.append("unit of work")

    def append() -> None:
        with write_transaction(engine) as transaction:
            INSERT.run_many(transaction, [{"id": 21, "name": "queued", "at": None}])
        finished.append("write transaction")

    holder = threading.Thread(target=hold_a_write)
    holder.start()
    assert entered.wait(10)
    writer = threading.Thread(target=append)
    writer.start()
    writer.join(0.3)
    if engine.dialect.name == "sqlite":
        assert writer.is_alive()  # it waits for its turn instead of failing on SQLite's lock
    release.set()
    holder.join(10)
    writer.join(10)
    assert sorted(finished) == ["unit of work", "write transaction"]
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(probe.c.id).where(probe.c.id >= 20)).all()) == [20, 21]


@pytest.mark.usefixtures("stored")
def test_a_write_that_does_not_wait_for_the_disk_is_committed_and_leaves_the_connection_as_configured(
    engine: Engine,
) -> None:
    setting = "PRAGMA synchronous" if engine.dialect.name == "sqlite" else "SHOW synchronous_commit"
    with engine.connect() as conn:
        configured = conn.exec_driver_sql(setting).scalar()
    with write_transaction(engine, flush=False) as transaction:
        INSERT.run_many(transaction, [{"id": 30, "name": "lazy", "at": AT}])
        during = transaction.driver.execute(setting).fetchone()[0]
    assert during in (1, "off")  # NORMAL on SQLite's WAL, off on PostgreSQL: the commit does not wait for the disk
    with engine.connect() as conn:
        assert conn.scalar(select(probe.c.name).where(probe.c.id == 30)) == "lazy"
        assert conn.exec_driver_sql(setting).scalar() == configured  # the next writer flushes as configured


@pytest.mark.usefixtures("stored")
def test_an_in_list_of_fixed_slots_finds_what_an_expanding_one_finds_however_few_values_fill_it(engine: Engine) -> None:
    by_ids = Prepared(select(probe.c.id, probe.c.name).where(in_slots(probe.c.id, 4)).order_by(probe.c.id))
    expanding = select(probe.c.id, probe.c.name).where(probe.c.id.in_(bindparam("ids", expanding=True)))
    with unit_of_work(engine, write=False) as session:
        for ids in ([2], [3, 1], [1, 2, 3, 99]):
            expected = sorted(tuple(row) for row in session.execute(expanding, {"ids": ids}))
            assert [tuple(row) for row in by_ids.all(session, **slot_values(ids, 4))] == expected
    with pytest.raises(ValueError, match="1 to 4 values"):
        slot_values([], 4)
    with pytest.raises(ValueError, match="1 to 4 values"):
        slot_values([1, 2, 3, 4, 5], 4)
