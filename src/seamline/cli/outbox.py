"""`seamline dispatcher` (deliver the outbox) and `seamline outbox` (its state and dead letters)."""

from __future__ import annotations

import getpass
import signal
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from seamline.audit.service import record
from seamline.cli.session import engine_for, err, fail, load_settings, transaction
from seamline.core.errors import SeamlineError
from seamline.core.principal import Principal
from seamline.core.schema import is_up_to_date
from seamline.outbox.service import DEAD, counts, discard, entries, replay
from seamline.preferences.service import unsubscribe_link
from seamline.worker.dispatcher import build_dispatcher

app = typer.Typer(help="The outbox: what waits to leave, and the dead letters.", no_args_is_help=True)
dead_letters = typer.Typer(help="Messages that ran out of retries: inspect, replay or discard.", no_args_is_help=True)
app.add_typer(dead_letters, name="dead-letters")


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


def dispatcher(
    once: Annotated[bool, typer.Option(help="Deliver what is due, then exit.")] = False,
) -> None:
    """Deliver the outbox (email, paper…). Start as many as you like on PostgreSQL: claims skip locked rows."""
    settings = load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        runner = build_dispatcher(engine, settings, unsubscribe_url=unsubscribe_link(settings))
        try:
            if once:
                typer.echo(f"settled {runner.drain()} messages ({runner.delivered} delivered)")
                return
            signal.signal(signal.SIGTERM, lambda *_: runner.stop_soon())
            signal.signal(signal.SIGINT, lambda *_: runner.stop_soon())
            runner.run_forever()
        finally:
            runner.stop()
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()


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
    Console(width=200).print(table)
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
