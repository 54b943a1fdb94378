"""The profile change feed: a reader's mark never skips a change, on SQLite (writers take turns) and on PostgreSQL
(transactions commit in any order)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.db import create_db_engine, unit_of_work
from seamline.identity.service import changes_mark, erasures_since, note_changes, profile_changes
from tests.conftest import empty_database


def test_changes_after_a_mark_are_read_once_summed_up_by_kind(engine: Engine) -> None:
    with unit_of_work(engine, write=False) as session:
        mark = changes_mark(session)
    with unit_of_work(engine) as session:
        note_changes(session, "events", [3, 1, 3])
        note_changes(session, "unmerge", [4, 5])
        note_changes(session, "events", [])  # nothing named: no row
    with unit_of_work(engine) as session:
        note_changes(session, "erasure", [5])
    with unit_of_work(engine, write=False) as session:
        changes = profile_changes(session, mark)
        erased_mark, erased = erasures_since(session, mark)
    assert changes.changed == {1, 3, 4}  # 5 was erased after: it is not reloaded, it is dropped
    assert changes.erased == {5}
    assert not changes.is_rebuilt
    assert erased == {5}
    with unit_of_work(engine) as session:
        note_changes(session, "rebuild", [])
    with unit_of_work(engine, write=False) as session:
        later = profile_changes(session, changes.mark)
        assert erasures_since(session, erased_mark)[1] == set()
    assert later.is_rebuilt
    assert later.changed == later.erased == frozenset()


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Engine]:
    engine = create_db_engine(postgres_url)
    empty_database(engine)
    yield engine
    engine.dispose()


def test_on_postgresql_a_change_that_commits_after_a_later_one_is_still_read(postgres: Engine) -> None:
    with unit_of_work(postgres, write=False) as session:
        mark = changes_mark(session)
    slow = Session(postgres)
    try:
        note_changes(slow, "events", [1])  # takes the lower seq, commits last
        with unit_of_work(postgres) as session:
            note_changes(session, "events", [2])
        with unit_of_work(postgres, write=False) as session:
            first = profile_changes(session, mark)
        assert first.changed == {2}
        slow.commit()
    finally:
        slow.close()
    with unit_of_work(postgres, write=False) as session:
        second = profile_changes(session, first.mark)
    assert 1 in second.changed  # a reader's mark of "the last seq seen" would have skipped it for good
