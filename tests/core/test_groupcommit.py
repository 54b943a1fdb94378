"""GroupCommitter on both databases: every waiter answered after its commit, groups, failures, and draining."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, bindparam, func, insert, select

from seamline.core.groupcommit import ArrivalGaps, GroupCommitter
from seamline.core.prepared import DriverTransaction, Prepared

probe_metadata = MetaData()
probe = Table(
    "groupcommit_probe",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("value", String(50), nullable=False),
)
POISON = "poison"
INSERT = Prepared(insert(probe).inline().values(value=bindparam("value")))


class Probe:
    """A write function that records its groups, can hold its first commit open, and fails on POISON."""

    def __init__(self, *, hold_first: bool = False) -> None:
        self.groups: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def write(self, transaction: DriverTransaction, items: list[str]) -> None:
        INSERT.run_many(transaction, [{"value": item} for item in items])
        self.groups.append(list(items))
        self.entered.set()
        if not self.release.wait(10):
            raise TimeoutError("the test never released the first commit")
        if POISON in items:
            raise RuntimeError("the write failed")


@pytest.fixture
def probe_table(engine: Engine) -> Iterator[Table]:
    probe_metadata.create_all(engine)
    yield probe
    probe_metadata.drop_all(engine)


def stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(probe.c.value)).all())


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(probe)) or 0)


def committer(
    engine: Engine,
    target: Probe,
    max_items: int = 1000,
    weigh: Callable[[str], int] = lambda _: 1,
    gather: float = 0.0,
) -> GroupCommitter[str, DriverTransaction]:
    started = GroupCommitter(engine, target.write, name="probe-writer", max_items=max_items, weigh=weigh, gather=gather)
    started.start()
    return started


@pytest.mark.usefixtures("probe_table")
def test_many_concurrent_submits_from_several_loops_are_all_committed(engine: Engine) -> None:
    target = Probe()
    writer = committer(engine, target)

    def one_loop(prefix: str) -> None:
        async def submit_all() -> None:
            await asyncio.gather(*(writer.submit(f"{prefix}-{i}") for i in range(100)))

        asyncio.run(submit_all())

    threads = [threading.Thread(target=one_loop, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.stop()
    assert count(engine) == 300
    assert sum(len(group) for group in target.groups) == 300
    assert writer.commits == len(target.groups)


@pytest.mark.usefixtures("probe_table")
@pytest.mark.parametrize(
    ("max_items", "expected"),
    [(1000, [["a"], ["b", "c", "d", "e", "f"]]), (2, [["a"], ["b", "c"], ["d", "e"], ["f"]])],
)
def test_items_that_queue_during_a_commit_share_the_next_one(
    engine: Engine, max_items: int, expected: list[list[str]]
) -> None:
    target = Probe(hold_first=True)
    writer = committer(engine, target, max_items)

    async def scenario() -> None:
        first = asyncio.create_task(writer.submit("a"))
        assert await asyncio.to_thread(target.entered.wait, 10)
        queued = [asyncio.create_task(writer.submit(item)) for item in "bcdef"]
        await asyncio.sleep(0)  # each task runs to its wait, so all five are queued
        assert not any(task.done() for task in [first, *queued])
        target.release.set()
        await asyncio.gather(first, *queued)

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()
    assert target.groups == expected
    assert writer.commits == len(expected)
    assert stored(engine) == ["a", "b", "c", "d", "e", "f"]


@pytest.mark.usefixtures("probe_table")
def test_a_group_holds_up_to_max_items_of_weight(engine: Engine) -> None:
    target = Probe(hold_first=True)
    writer = committer(engine, target, max_items=10, weigh=len)  # an item weighs its length, as a request its events

    async def scenario() -> None:
        first = asyncio.create_task(writer.submit("a"))
        assert await asyncio.to_thread(target.entered.wait, 10)
        queued = [asyncio.create_task(writer.submit(item)) for item in ("bbbb", "cccc", "dddd", "ee")]
        await asyncio.sleep(0)
        target.release.set()
        await asyncio.gather(first, *queued)

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()
    # A group closes once it reaches ten: 4 + 4 + 4 goes over by one item, never by more.
    assert target.groups == [["a"], ["bbbb", "cccc", "dddd"], ["ee"]]


@pytest.mark.usefixtures("probe_table")
def test_submit_returns_only_after_the_commit(engine: Engine) -> None:
    target = Probe(hold_first=True)
    writer = committer(engine, target)

    async def scenario() -> None:
        task = asyncio.create_task(writer.submit("a"))
        assert await asyncio.to_thread(target.entered.wait, 10)
        await asyncio.sleep(0.05)
        assert not task.done()  # written but not committed: no answer yet
        assert count(engine) == 0
        target.release.set()
        await task
        assert count(engine) == 1

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()


@pytest.mark.usefixtures("probe_table")
def test_an_item_the_database_refuses_fails_alone_and_its_group_is_committed_without_it(engine: Engine) -> None:
    target = Probe(hold_first=True)
    writer = committer(engine, target)

    async def scenario() -> list[BaseException | None]:
        first = asyncio.create_task(writer.submit("a"))
        assert await asyncio.to_thread(target.entered.wait, 10)
        queued = [asyncio.create_task(writer.submit(item)) for item in ("b", POISON, "c")]
        await asyncio.sleep(0)
        target.release.set()
        results = await asyncio.gather(first, *queued, return_exceptions=True)
        await writer.submit("d")  # the writer goes on after a failure
        return list(results)

    try:
        results = asyncio.run(scenario())
    finally:
        writer.stop()
    assert results[0] is None
    assert [type(result) for result in results[1:]] == [type(None), RuntimeError, type(None)]
    assert stored(engine) == ["a", "b", "c", "d"]
    # The failed group, then each of its items on its own: only the poisoned one failed.
    assert target.groups[1:] == [["b", POISON, "c"], ["b"], [POISON], ["c"], ["d"]]


@pytest.mark.usefixtures("probe_table")
def test_stop_commits_everything_queued_then_refuses_more(engine: Engine) -> None:
    target = Probe(hold_first=True)
    writer = committer(engine, target, max_items=7)

    async def scenario() -> None:
        first = asyncio.create_task(writer.submit("first"))
        assert await asyncio.to_thread(target.entered.wait, 10)
        queued = [asyncio.create_task(writer.submit(f"item-{i}")) for i in range(20)]
        await asyncio.sleep(0)
        target.release.set()
        writer.stop()  # blocks until the queue is drained
        assert count(engine) == 21
        await asyncio.gather(first, *queued)
        with pytest.raises(RuntimeError, match="not running"):
            await writer.submit("late")

    asyncio.run(scenario())
    assert not writer.is_running
    assert count(engine) == 21


def test_a_committer_needs_room_for_one_item(engine: Engine) -> None:
    with pytest.raises(ValueError, match="max_items"):
        GroupCommitter(engine, Probe().write, name="probe-writer", max_items=0)


def test_a_lone_arrival_never_waits_for_company() -> None:
    gaps = ArrivalGaps(0.001)
    gaps.arrived(100.0)
    assert gaps.wait_for_more(100.0, 100.0) == 0.0  # nothing arrived before it: no idea of a rate, no wait
    gaps.arrived(105.0)  # five seconds later: far apart
    assert gaps.wait_for_more(105.0, 105.0) == 0.0
    assert ArrivalGaps(0.0).wait_for_more(1.0, 1.0) == 0.0  # no window: never waits


def test_frequent_arrivals_hold_a_group_open_until_one_window_after_its_first_item() -> None:
    gaps = ArrivalGaps(0.002)
    for n in range(20):
        gaps.arrived(10.0 + n * 0.001)  # 1,000/s: one more expected well within the 2 ms window
    first = 10.0 + 19 * 0.001
    assert gaps.wait_for_more(first, first) == pytest.approx(0.002)
    assert gaps.wait_for_more(first, first + 0.0004) == pytest.approx(0.0016)
    assert gaps.wait_for_more(first, first + 0.003) == 0.0  # it already waited in the queue that long


def test_a_group_waits_for_the_items_expected_within_its_window_with_half_a_gap_to_spare() -> None:
    def wanted(window: float, gap: float) -> int:
        gaps = ArrivalGaps(window)
        for n in range(100):
            gaps.arrived(n * gap)
        return gaps.wanted()

    assert wanted(0.002, 0.001) == 2  # 1,000/s, 2 ms: the next one, due after 1 ms
    assert wanted(0.002, 0.0005) == 4  # 2,000/s: three more, the last due 0.5 ms before the window ends
    assert wanted(0.002, 0.0014) == 1  # 714/s: the next one would be due too close to the window's end
    assert wanted(0.001, 0.001) == 1  # a window of one gap: waiting would be a coin toss, so none
    assert wanted(0.002, 0.0) == 1_000_000  # all at once: the group's weight limit decides
    assert wanted(0.0, 0.001) == 1  # no window: never waits


def test_one_long_pause_ends_the_waiting_at_once() -> None:
    gaps = ArrivalGaps(0.001)
    for n in range(50):
        gaps.arrived(n * 0.0001)  # 10,000/s
    assert gaps.wait_for_more(0.0049, 0.0049) > 0
    gaps.arrived(60.0)  # a minute of silence: the next arrival is a lone one again
    assert gaps.wait_for_more(60.0, 60.0) == 0.0


@pytest.mark.usefixtures("probe_table")
def test_items_that_arrive_often_share_commits_with_a_gather_window(engine: Engine) -> None:
    target = Probe()
    writer = committer(engine, target, gather=0.2)  # a window far longer than the gaps below, on any machine

    async def scenario() -> None:
        tasks = []
        for n in range(12):
            tasks.append(asyncio.create_task(writer.submit(f"item-{n}")))
            await asyncio.sleep(0.005)  # one item every few milliseconds, none of them awaited
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()
    assert count(engine) == 12
    assert sum(len(group) for group in target.groups) == 12
    # The first items commit alone while the writer learns the rate; then groups wait for the items that follow.
    assert len(target.groups) < 12
    assert max(len(group) for group in target.groups) > 1


@pytest.mark.usefixtures("probe_table")
def test_what_one_turn_of_the_loop_submits_reaches_the_writer_together(engine: Engine) -> None:
    # Handed over when the loop's turn ends (one wake-up of the writer), not as each request submits: here the
    # loop lets go of the interpreter between the two submits of one turn, long enough for a writer handed the
    # first at once to commit it alone.
    target = Probe()
    writer = committer(engine, target)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first = asyncio.ensure_future(writer.submit("first"))
        loop.call_soon(time.sleep, 0.2)  # runs between the two tasks' first steps, in the same turn
        second = asyncio.ensure_future(writer.submit("second"))
        await asyncio.gather(first, second)
        await writer.submit("alone")

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()
    assert target.groups == [["first", "second"], ["alone"]]
    assert count(engine) == 3


@pytest.mark.usefixtures("probe_table")
def test_a_group_closes_once_it_holds_the_items_its_window_was_expected_to_bring(engine: Engine) -> None:
    # Items 90 ms apart, a 200 ms window: one more is expected within it (the one after would leave too little to
    # spare), so a group commits as soon as its second item comes rather than waiting out the window for a third.
    target = Probe()
    writer = committer(engine, target, gather=0.2)

    async def scenario() -> None:
        tasks = []
        for n in range(9):
            tasks.append(asyncio.create_task(writer.submit(f"item-{n}")))
            await asyncio.sleep(0.09)
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
    finally:
        writer.stop()
    assert sum(len(group) for group in target.groups) == 9
    assert max(len(group) for group in target.groups) == 2  # waiting out the window would have brought three
