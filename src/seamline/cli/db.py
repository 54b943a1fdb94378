"""`seamline db`: schema migrations."""

from __future__ import annotations

import typer

from seamline.cli.session import engine_for, load_database_settings
from seamline.core.schema import expected_revision, stored_revision

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    # Alembic is imported here, not at the top: it adds ~75 ms to every other command's start, `db status` included.
    from seamline.core.migrations import upgrade

    engine = engine_for(load_database_settings())
    try:
        upgrade(engine, revision)
        typer.echo(f"database at revision {stored_revision(engine)}")
    finally:
        engine.dispose()


@app.command("status")
def status_command() -> None:
    """Show the current and the newest revision; exit 1 when an upgrade is due."""
    engine = engine_for(load_database_settings())
    try:
        current, head = stored_revision(engine), expected_revision()
    finally:
        engine.dispose()
    typer.echo(f"current: {current or '(empty)'}\nnewest:  {head}")
    if current != head:
        raise typer.Exit(1)
