"""`seamline destinations`: register webhook receivers, pause, resume and replay them.

`list` reads through `destinations/views.py`; the commands that change a destination import the service (which
reaches consent and the outbox) and the audit log when they run, so the listing starts without them."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from seamline.cli.output import console
from seamline.cli.session import load_settings, transaction
from seamline.core.principal import Principal
from seamline.destinations.views import PROFILE_CHANGES, list_destinations

app = typer.Typer(
    help="Other systems that receive profile changes and events as signed webhooks.", no_args_is_help=True
)


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("add")
def add(
    name: str,
    url: str,
    purpose: Annotated[str, typer.Option(help="The consent purpose the receiver uses the data for.")],
    subscribe: Annotated[
        list[str],
        typer.Option(help=f"What it receives: {', '.join(PROFILE_CHANGES)}, event.* or event.<Event Name>."),
    ],
) -> None:
    """Register a destination; prints its signing secret once (give it to the receiver)."""
    from seamline.audit.service import record  # when it runs (see the module docstring)
    from seamline.destinations.service import create_destination

    settings = load_settings()
    with transaction(settings) as session:
        view, secret = create_destination(
            session, name, url, purpose=purpose, subscriptions=subscribe, consent=settings.consent
        )
        record(session, _operator(), "change", "destination", view.name, {"created": view.url, "purpose": purpose})
    typer.echo(f"created destination {view.name} -> {view.url} ({view.purpose}: {', '.join(view.subscriptions)})")
    typer.echo(f"signing secret (not shown again): {secret}")


@app.command("list")
def list_command() -> None:
    """Every destination, its purpose, subscriptions and state."""
    with transaction() as session:
        found = list_destinations(session)
    table = Table("name", "url", "purpose", "subscriptions", "status")
    for item in found:
        table.add_row(item.name, item.url, item.purpose, ", ".join(item.subscriptions), item.status)
    console().print(table)


@app.command("pause")
def pause(name: str) -> None:
    """Hold deliveries to a destination (they wait; nothing is dropped)."""
    from seamline.audit.service import record  # when it runs (see the module docstring)
    from seamline.destinations.service import set_paused

    with transaction() as session:
        set_paused(session, name, is_paused=True)
        record(session, _operator(), "change", "destination", name, {"status": "paused"})
    typer.echo(f"paused {name}")


@app.command("resume")
def resume(name: str) -> None:
    """Deliver again, starting with what waited."""
    from seamline.audit.service import record  # when it runs (see the module docstring)
    from seamline.destinations.service import set_paused

    with transaction() as session:
        set_paused(session, name, is_paused=False)
        record(session, _operator(), "change", "destination", name, {"status": "active"})
    typer.echo(f"resumed {name}")


@app.command("replay")
def replay(
    name: str,
    since: Annotated[datetime, typer.Option(help="Send again everything settled since this time (ISO 8601, UTC).")],
) -> None:
    """Send a destination again what it was sent (or failed to be sent) since a time."""
    from seamline.audit.service import record  # when it runs (see the module docstring)
    from seamline.destinations.service import replay_since

    with transaction() as session:
        count = replay_since(session, name, since if since.tzinfo else since.replace(tzinfo=UTC))
        record(session, _operator(), "change", "destination", name, {"replayed_since": since.isoformat()})
    typer.echo(f"queued {count} webhooks to {name} again")
