"""Fixtures: every storage test runs on SQLite and on a real PostgreSQL server.

The app's client (tests/support/app.py), the trained matching model (tests/support/matching.py) and databases
with a synthetic stream waiting (tests/support/streams.py) are plugins
that import the app and the matcher only when a test asks for them: a test file that needs neither starts
without FastAPI, pandas or Splink.

PostgreSQL comes from SEAMLINE_TEST_POSTGRES_URL or, when that is unset, from a private cluster this session
starts. Each xdist worker gets its own database, emptied before every test; each SQLite test gets a fresh copy of a
file migrated once per worker.

Why emptied and not rolled back: the components under test are real, with their own connections and commits (the
app's inbox and audit writers, the worker thread, the dispatcher, CLI subprocesses), so no outer transaction can
hold a test's writes. Emptying is made cheap instead: one query finds the tables a test wrote to, and only those are
emptied with DELETE (TRUNCATE of every table cost 0.5-0.8 s a test, measured; DELETE of the few written, ~10 ms).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from seamline.config import Settings
from seamline.core.db import Base, create_db_engine
from seamline.core.migrations import upgrade
from seamline.models import import_all_models
from tests.support.postgres import start_cluster

import_all_models()
pytest_plugins = ("tests.support.app", "tests.support.matching", "tests.support.streams")
DATABASES = ("sqlite", "postgresql")
# Tables whose rows are reference data written by migrations, kept between tests.
KEEP_TABLES = {"alembic_version", "inbox_partitions"}


# The slowest test files, run first (seconds per test in the fresh-clone CI of 2026-12-06, 8 min 51 s): the two
# workers take more tests as they finish theirs, so a long test started late keeps one worker busy while the other
# has nothing left.
SLOW_FIRST = (
    "tests/demo/",  # the played demo: 45-60 s per database, played once per process (tests/demo/conftest.py)
    "tests/matching/test_spark.py",  # 39 s, Spark's session 8 s more
    "tests/cli/test_matching.py",  # 8 s per database
    "tests/e2e/",  # a real browser: 5-10 s a test
    "tests/worker/test_supervisor.py",  # 6.5 s per database
    "tests/reports/test_browser.py",  # 5 s per database
    "tests/ingestion/test_durability.py",  # 7 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest files first, each file's tests in their order."""

    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(SLOW_FIRST) if item.nodeid.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    url = os.environ.get("SEAMLINE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def migrated_postgres_database(server_url: str, name: str) -> str:
    """The URL of a new, migrated database on the server (dropped first if it exists)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url(postgres_server_url: str, worker_id: str) -> str:
    """A migrated database of this test worker's own."""
    return migrated_postgres_database(postgres_server_url, f"seamline_test_{worker_id}")


# Each table's own sequences (serial and identity columns), so that ids start at 1 again in every test.
SEQUENCES = """
SELECT t.relname, s.relname FROM pg_class s
JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE s.relkind = 'S'
"""


def empty_database(engine: Engine) -> None:
    """Delete every row but the reference data migrations write, and start every id again at 1."""
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    exists = 'SELECT {} WHERE EXISTS (SELECT 1 FROM "{}")'  # our own table names, from the models
    written = " UNION ALL ".join(exists.format(i, name) for i, name in enumerate(tables))
    with engine.begin() as conn:
        dirty = {tables[i] for (i,) in conn.execute(text(written))}
        for name in reversed(tables):  # children before the rows they point at
            if name in dirty:
                conn.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608 (a table name from the models)
        for table, sequence in conn.execute(text(SEQUENCES)):
            if table in dirty:
                conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
        conn.execute(text("UPDATE inbox_partitions SET claimed_at = NULL WHERE claimed_at IS NOT NULL"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per test worker; each test gets a copy (migrating took ~0.3 s a test)."""
    path = tmp_path_factory.mktemp("template") / "seamline.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        # Everything in the main file, so that copying it alone copies the database.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "seamline.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = str(request.getfixturevalue("postgres_url"))
    engine = create_db_engine(url)
    empty_database(engine)
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    workerinput = getattr(request.config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"
