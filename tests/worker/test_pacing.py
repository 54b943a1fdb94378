"""Batch sizes follow the time a batch held the write lock: down at once, up gradually, within bounds."""

from __future__ import annotations

from seamline.worker.pacing import SMALLEST, BatchPacer


def test_batches_grow_by_a_quarter_while_they_hold_the_lock_briefly() -> None:
    pacer = BatchPacer(target_seconds=0.05, largest=5000)
    assert pacer.size == SMALLEST
    sizes = []
    for _ in range(5):
        pacer.record(pacer.size, 0.001, pacer.size)  # far under the target
        sizes.append(pacer.size)
    assert sizes == [126, 158, 198, 248, 311]


def test_a_batch_that_held_the_lock_too_long_shrinks_the_next_at_once() -> None:
    pacer = BatchPacer(target_seconds=0.05, largest=5000)
    pacer.size = 4000
    pacer.record(4000, 0.4, 4000)  # 100 us per event: 500 events make 50 ms
    assert pacer.size == 500


def test_sizes_stay_between_the_smallest_and_the_configured_batch_size() -> None:
    pacer = BatchPacer(target_seconds=0.05, largest=1000)
    pacer.size = 1000
    pacer.record(1000, 0.0001, 1000)
    assert pacer.size == 1000
    pacer.record(1000, 60.0, 1000)  # a machine so busy that one event takes longer than the target
    assert pacer.size == SMALLEST
    assert BatchPacer(target_seconds=0.05, largest=10).size == 10


def test_a_batch_that_found_fewer_events_than_it_asked_for_changes_nothing() -> None:
    pacer = BatchPacer(target_seconds=0.05, largest=5000)
    pacer.size = 2000
    pacer.record(30, 0.02, 2000)  # the inbox ran dry: fixed costs, not the worker's pace
    pacer.record(0, 0.0, 2000)
    assert pacer.size == 2000
