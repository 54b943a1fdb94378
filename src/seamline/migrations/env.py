"""Alembic environment: the connection comes from the caller (`seamline db upgrade`), never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from seamline.core.db import Base
from seamline.models import import_all_models

import_all_models()
target_metadata = Base.metadata


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `seamline db upgrade`, which passes the connection")
run_migrations(connection)
