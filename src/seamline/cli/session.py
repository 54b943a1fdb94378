"""The CLI's transaction boundary: settings, engine, one unit of work, and domain errors as exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.cli.output import Messages
from seamline.config import Settings
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.errors import InvalidInput, SeamlineError, TooLarge
from seamline.core.schema import is_up_to_date

err = Messages()


def load_settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        err.print(f"[red]error:[/red] the configuration is not valid:\n{exc}")
        raise typer.Exit(2) from None


def engine_for(settings: Settings) -> Engine:
    return create_db_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def fail(exc: SeamlineError) -> typer.Exit:
    """Print a domain error for a person and give the exit code scripts can branch on."""
    # Messages quote what the user typed, which must not be read as Rich markup (`[/x]` would crash the print).
    err.print(f"[red]error:[/red] {escape(exc.message)}")
    for item in getattr(exc, "errors", []):
        where = f"[{item.index}] " if item.index is not None else ""
        err.print(escape(f"  {where}{item.field}: {item.message}"))
    return typer.Exit(2 if isinstance(exc, InvalidInput | TooLarge) else 1)


@contextmanager
def transaction(settings: Settings | None = None) -> Iterator[Session]:
    """One command, one transaction: committed when the block ends, rolled back on any error."""
    settings = settings or load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the database schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        with unit_of_work(engine) as session:
            yield session
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
