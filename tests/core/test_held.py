"""Held connections on both databases: a writer's commits are visible to others when its block ends, a failure
rolls back and the next transaction works (on a fresh connection when the old one broke), reads fall back to the
pool when the held connection is busy, and both give their connection back on close."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, insert, select, text

from seamline.core.held import HeldReader, HeldWriter
from seamline.core.prepared import Prepared

probe_metadata = MetaData()
probe = Table("held_probe", probe_metadata, Column("id", Integer, primary_key=True), Column("value", String(50)))
INSERT = Prepared(insert(probe).inline().values(value=bindparam("value")))
VALUES = Prepared(select(probe.c.value).order_by(probe.c.id))


@pytest.fixture
def probe_table(engine: Engine) -> Iterator[Table]:
    probe_metadata.create_all(engine)
    yield probe
    probe_metadata.drop_all(engine)


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(probe.c.value).order_by(probe.c.id)).all())


@pytest.mark.usefixtures("probe_table")
@pytest.mark.parametrize("flush", [True, False])
def test_a_writer_commit_is_visible_to_other_connections_when_its_block_ends(engine: Engine, flush: bool) -> None:
    writer = HeldWriter(engine, flush=flush)
    try:
        with writer.transaction() as transaction:
            INSERT.run_many(transaction, [{"value": "a"}, {"value": "b"}])
        assert stored(engine) == ["a", "b"]
        with writer.transaction() as transaction:
            INSERT.run_many(transaction, [{"value": "c"}])
        assert stored(engine) == ["a", "b", "c"]
    finally:
        writer.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # Pool's stubs lack checkedout(); QueuePool has it


@pytest.mark.usefixtures("probe_table")
def test_a_failed_write_rolls_back_and_the_next_one_commits(engine: Engine) -> None:
    writer = HeldWriter(engine)
    try:

        def failing() -> None:
            with writer.transaction() as transaction:
                INSERT.run_many(transaction, [{"value": "lost"}])
                raise RuntimeError("the write failed")

        with pytest.raises(RuntimeError):
            failing()
        assert stored(engine) == []
        with writer.transaction() as transaction:
            INSERT.run_many(transaction, [{"value": "kept"}])
        assert stored(engine) == ["kept"]
    finally:
        writer.close()


@pytest.mark.usefixtures("probe_table")
def test_a_writer_whose_connection_broke_takes_a_fresh_one(engine: Engine) -> None:
    writer = HeldWriter(engine)
    try:
        with writer.transaction() as transaction:
            INSERT.run_many(transaction, [{"value": "before"}])
            broken = transaction.driver
        broken.close()  # what a server restart or a killed backend leaves behind
        with writer.transaction() as transaction:
            assert transaction.driver is not broken
            INSERT.run_many(transaction, [{"value": "after"}])
        assert stored(engine) == ["before", "after"]
    finally:
        writer.close()


@pytest.mark.usefixtures("probe_table")
def test_reads_see_what_was_committed_and_fall_back_to_the_pool_while_busy(engine: Engine) -> None:
    reader = HeldReader(engine)
    with engine.begin() as conn:
        conn.execute(insert(probe), [{"value": "x"}])
    try:
        with reader.snapshot() as outer:
            with reader.snapshot() as inner:  # the held connection is busy: a pooled one
                assert inner.driver is not outer.driver
                assert [r.value for r in VALUES.all(inner)] == ["x"]
            assert [r.value for r in VALUES.all(outer)] == ["x"]
            held = outer.driver
        with engine.begin() as conn:
            conn.execute(insert(probe), [{"value": "y"}])
        with reader.snapshot() as again:
            assert again.driver is held
            assert [r.value for r in VALUES.all(again)] == ["x", "y"]
    finally:
        reader.close()
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # Pool's stubs lack checkedout(); QueuePool has it
    with reader.snapshot() as after_close:  # a closed reader still answers, from the pool
        assert [r.value for r in VALUES.all(after_close)] == ["x", "y"]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # Pool's stubs lack checkedout(); QueuePool has it


@pytest.mark.usefixtures("probe_table")
def test_a_failed_read_leaves_the_held_connection_usable(engine: Engine) -> None:
    reader = HeldReader(engine)
    try:

        def failing() -> None:
            with reader.snapshot() as reads:
                reads.driver.execute(text("SELECT * FROM no_such_table").text)

        with pytest.raises(Exception, match=r"no_such_table|does not exist"):
            failing()
        with reader.snapshot() as reads:
            assert VALUES.all(reads) == []
    finally:
        reader.close()


@pytest.mark.usefixtures("probe_table")
def test_a_reader_whose_connection_broke_takes_a_fresh_one(engine: Engine) -> None:
    reader = HeldReader(engine)
    try:
        with reader.snapshot() as reads:
            broken = reads.driver
        broken.close()
        with reader.snapshot() as reads:
            assert reads.driver is not broken
            assert VALUES.all(reads) == []
    finally:
        reader.close()


@pytest.mark.usefixtures("probe_table")
def test_a_closed_reader_gives_its_connection_back_as_the_pool_gave_it(engine: Engine) -> None:
    reader = HeldReader(engine)
    with reader.snapshot() as reads:
        VALUES.all(reads)
        driver = reads.driver
    if engine.dialect.name == "postgresql":
        assert driver.autocommit is True  # one statement, one snapshot: READ COMMITTED's view, fewer round trips
    reader.close()
    if engine.dialect.name == "postgresql":
        assert driver.autocommit is False  # the pool's other users get transactions as before
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]  # Pool's stubs lack checkedout(); QueuePool has it
