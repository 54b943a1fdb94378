"""`seamline keys`: API keys for server-to-server callers, and their scopes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from seamline.access import service
from seamline.access.service import SCOPES
from seamline.cli.output import console
from seamline.cli.session import transaction

app = typer.Typer(help="API keys for the profile and admin APIs, with their scopes.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "-"


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Lower-case name of the caller, e.g. crm-sync, mobile-backend.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help=f"A scope to grant (repeat for more): {', '.join(SCOPES)}."),
    ] = None,
) -> None:
    """Create an API key and print it. The key is shown this once; only its hash is kept."""
    with transaction() as session:
        api_key, key = service.create_api_key(session, name, scope or [])
    typer.echo(f"created API key {api_key.name} (scopes: {', '.join(api_key.scopes)})")
    typer.echo(f"key: {key}")
    typer.echo("store it now: it is not shown again (revoke it and create another if it is lost).")


@app.command("list")
def list_command() -> None:
    """List API keys with their scopes, status and last use."""
    with transaction() as session:
        api_keys = service.list_api_keys(session)
    table = Table("name", "key", "scopes", "status", "created", "last used")
    for k in api_keys:
        table.add_row(
            k.name,
            k.key_hint,
            ", ".join(k.scopes),
            "revoked" if k.is_revoked else "active",
            _when(k.created_at),
            _when(k.last_used_at),
        )
    console().print(table)  # made here, so it takes the width COLUMNS gives at the time


@app.command("revoke")
def revoke(name: str) -> None:
    """Revoke an API key at once."""
    with transaction() as session:
        service.revoke_api_key(session, name)
    typer.echo(f"revoked API key {name}")
