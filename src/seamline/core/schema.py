"""Is the database's schema the one this code expects? Answered without importing Alembic.

Every command and the server ask this before they start, so it must cost little: Alembic (and Mako, which it
loads) adds ~75 ms to every start of the CLI. The expected revision is the newest migration file's number (files are
named `NNNN_what.py` with revision "NNNN", in one line); a test checks it equals Alembic's own head.
"""

from __future__ import annotations

from importlib.resources import files

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

VERSIONS = files("seamline.migrations") / "versions"


def expected_revision() -> str:
    """The newest migration's revision: the one a current database is at."""
    numbers = [entry.name.split("_", 1)[0] for entry in VERSIONS.iterdir() if entry.name.endswith(".py")]
    return max(number for number in numbers if number.isdigit())


def stored_revision(engine: Engine) -> str | None:
    """The revision the database records, or None when it has none (never migrated)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:  # no alembic_version table yet: an empty database
        return None
    return found[0] if len(found) == 1 else None


def is_up_to_date(engine: Engine) -> bool:
    return stored_revision(engine) == expected_revision()
