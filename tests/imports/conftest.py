"""Source databases a query import reads from: a SQLite file and a PostgreSQL database of the test worker's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture(scope="session")
def source_postgres_url(postgres_server_url: str, worker_id: str) -> str:
    """An empty PostgreSQL database standing for a CRM's own database (not Seamline's)."""
    name = f"crm_source_{worker_id}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=("sqlite", "postgresql"))
def source_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A source database holding nothing but what the test creates; its tables are dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm-source.db'}"
        return
    url = str(request.getfixturevalue("source_postgres_url"))
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
