"""`seamline sources`: the systems and channels that send data, and their write keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from seamline.cli.output import console
from seamline.cli.session import transaction
from seamline.ingestion.service import inbox_status
from seamline.sources import service
from seamline.sources.service import SOURCE_KINDS

app = typer.Typer(help="Sources and their write keys.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Lower-case name, e.g. web, ios-app, cards-system.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(SOURCE_KINDS)}.")],
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help="Browser origin allowed to send with this key (repeat; '*' for any)."),
    ] = None,
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests per second for this source (overrides the global limit).")
    ] = None,
) -> None:
    """Create a source and print its write key. The key is shown this once; only its hash is kept."""
    with transaction() as session:
        source, key = service.create_source(session, name, kind, origins=origin or [], rate_limit_per_second=rate_limit)
    typer.echo(f"created source {source.name} ({source.kind})")
    typer.echo(f"write key: {key}")
    typer.echo("store it now: it is not shown again (rotate with `seamline sources rotate`).")


@app.command("list")
def list_command() -> None:
    """List sources with their status and how many events each sent and had processed."""
    with transaction() as session:
        sources = service.list_sources(session)
        status = inbox_status(session)
    table = Table("name", "kind", "key", "status", "origins", "events", "processed")
    for s in sources:
        processed = sum(status.processed_by_source.get(s.id, {}).values())
        table.add_row(
            s.name,
            s.kind,
            s.key_hint,
            "revoked" if s.is_revoked else "active",
            ", ".join(s.allowed_origins) or "-",
            str(status.stored_by_source.get(s.id, 0)),
            str(processed),
        )
    out = console()  # made here, so it takes the width of where it prints at the time
    out.print(table)
    out.print(f"inbox backlog: {status.backlog}")


@app.command("revoke")
def revoke(name: str) -> None:
    """Revoke a source's write key at once; its stored events stay."""
    with transaction() as session:
        service.revoke_source(session, name)
    typer.echo(f"revoked source {name}")


@app.command("rotate")
def rotate(name: str) -> None:
    """Give a source a new write key (the old one stops working) and print it once."""
    with transaction() as session:
        _source, key = service.rotate_key(session, name)
    typer.echo(f"new write key for {name}: {key}")
