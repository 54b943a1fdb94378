"""`seamline outbox`: what waits to leave, and the dead letters (the dispatcher, which imports every channel's
handler, is `seamline.cli.dispatcher`)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.session import transaction
from seamline.core.principal import Principal
from seamline.outbox.service import DEAD, counts, discard, entries, replay

app = typer.Typer(help="The outbox: what waits to leave, and the dead letters.", no_args_is_help=True)
dead_letters = typer.Typer(help="Messages that ran out of retries: inspect, replay or discard.", no_args_is_help=True)
app.add_typer(dead_letters, name="dead-letters")


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("status")
def status() -> None:
    """How many messages are in each state."""
    with transaction() as session:
        found = counts(session)
    for name in sorted(found):
        typer.echo(f"{name:<11} {found[name]}")


@dead_letters.command("list")
def list_dead(
    kind: Annotated[str | None, typer.Option(help="Only this kind (email, webhook, paper…).")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Dead letters, newest first, with their last error."""
    with transaction() as session:
        found = entries(session, DEAD, kind=kind, limit=limit)
    table = Table("id", "kind", "target", "delivery id", "attempts", "last error")
    for item in found:
        table.add_row(str(item.id), item.kind, item.target, item.delivery_id, str(item.attempts), item.last_error or "")
    console().print(table)
    typer.echo(f"{len(found)} dead letters")


@dead_letters.command("replay")
def replay_dead(ids: Annotated[list[int], typer.Argument(help="Dead letter ids.")]) -> None:
    """Put dead letters back in line (same delivery id, a fresh retry schedule)."""
    with transaction() as session:
        done = replay(session, ids)
        record(session, _operator(), "change", "outbox", "dead-letters", {"replayed": done})
    typer.echo(f"replayed {len(done)} dead letters")


@dead_letters.command("discard")
def discard_dead(ids: Annotated[list[int], typer.Argument(help="Dead letter ids.")]) -> None:
    """Give up on dead letters for good."""
    with transaction() as session:
        done = discard(session, ids)
        record(session, _operator(), "change", "outbox", "dead-letters", {"discarded": done})
    typer.echo(f"discarded {len(done)} dead letters")
