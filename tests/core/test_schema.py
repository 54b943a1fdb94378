"""The cheap schema check agrees with Alembic, so commands can start without importing it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine

from seamline.core.migrations import head_revision, upgrade
from seamline.core.schema import expected_revision, is_up_to_date, stored_revision


def test_the_newest_migration_file_is_alembics_head() -> None:
    assert expected_revision() == head_revision()


def test_an_empty_database_is_not_up_to_date(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert stored_revision(engine) is None
    assert not is_up_to_date(engine)


def test_a_migrated_database_is_up_to_date(engine: Engine) -> None:
    assert stored_revision(engine) == expected_revision()
    assert is_up_to_date(engine)


def test_an_older_revision_is_not_up_to_date(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0001")
    assert stored_revision(engine) == "0001"
    assert not is_up_to_date(engine)
