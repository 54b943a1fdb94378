"""`seamline events quarantine`: events the worker set aside after they failed repeatedly — see, replay, discard."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from seamline.cli.output import console
from seamline.cli.session import transaction
from seamline.ingestion.service import discard_quarantined, quarantined_events, replay_quarantined

app = typer.Typer(help="The event pipeline: its quarantine of events that failed repeatedly.", no_args_is_help=True)
quarantine = typer.Typer(help="Events set aside after failing repeatedly, with why.", no_args_is_help=True)
app.add_typer(quarantine, name="quarantine")

EventIds = Annotated[list[int] | None, typer.Argument(help="event ids (see `list`)", show_default=False)]


@quarantine.command("list")
def list_command() -> None:
    """Quarantined events, oldest first, with the reason and how many of the person's events wait behind each."""
    with transaction() as session:
        events = quarantined_events(session)
    if not events:
        typer.echo("no event is quarantined")
        return
    table = Table("event", "source", "type", "attempts", "quarantined", "waiting", "reason")
    for q in events:
        table.add_row(
            str(q.event_id),
            str(q.source_id),
            q.type,
            str(q.attempts),
            q.quarantined_at.isoformat(timespec="seconds"),
            str(q.waiting),
            q.reason,
        )
    console().print(table)


@quarantine.command("replay")
def replay_command(
    event_ids: EventIds = None,
    all_: Annotated[bool, typer.Option("--all", help="every quarantined event")] = False,
) -> None:
    """Give quarantined events back to the worker (after the fix): each runs in its place, its person's follow."""
    if bool(event_ids) == all_:
        typer.echo("error: name the event ids to replay, or --all", err=True)
        raise typer.Exit(2)
    with transaction() as session:
        released = replay_quarantined(session, None if all_ else event_ids)
    typer.echo(f"released {len(released)} event(s) to the worker: {', '.join(map(str, released)) or '-'}")


@quarantine.command("discard")
def discard_command(event_ids: EventIds = None) -> None:
    """Mark quarantined events processed without processing them; their person's events go on without them."""
    if not event_ids:
        typer.echo("error: name the event ids to discard", err=True)
        raise typer.Exit(2)
    with transaction() as session:
        discarded = discard_quarantined(session, event_ids)
    typer.echo(f"discarded {len(discarded)} event(s): {', '.join(map(str, discarded))}")
