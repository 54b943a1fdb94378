"""`seamline journeys`: load definition files, see the board, run the stall scan, read redundant collection."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seamline.cli.output import console
from seamline.cli.session import err, load_settings, transaction
from seamline.core.clock import utcnow
from seamline.journeys.board import board
from seamline.journeys.definitions import DefinitionsInvalid
from seamline.journeys.installed import load_definitions, running_definitions

app = typer.Typer(help="Journeys: definitions, the board, the stall scan, redundant collection.", no_args_is_help=True)


@app.command("load")
def load(
    folder: Annotated[
        Path | None, typer.Argument(help="Folder of *.yaml files; default: [journeys] definitions_dir.")
    ] = None,
) -> None:
    """Load (or reload) definition files: all or none; a bad file names its line and field and changes nothing."""
    chosen = folder or load_settings().journeys.definitions_dir
    if chosen is None:
        err.print("[red]error:[/red] name a folder, or set [journeys] definitions_dir")
        raise typer.Exit(2)
    try:
        with transaction() as session:
            keys = load_definitions(session, chosen, utcnow())
    except DefinitionsInvalid as bad:
        for problem in bad.errors:
            err.print(f"[red]error:[/red] {problem}", markup=True)
        err.print("nothing was loaded; the running definitions are unchanged")
        raise typer.Exit(1) from None
    typer.echo(f"loaded {len(keys)} journeys: {', '.join(keys)}")


@app.command("list")
def list_journeys() -> None:
    """The running definitions and, per step, how many instances are open, stalled, abandoned or completed."""
    with transaction() as session:
        definitions = running_definitions(session)
        rows = board(session)
    table = Table("journey", "step", "open", "stalled", "abandoned", "completed")
    for row in rows:
        c = row.counts
        table.add_row(row.journey, row.step or "—", *(str(c[s]) for s in ("open", "stalled", "abandoned", "completed")))
    console().print(table)
    typer.echo(f"{len(definitions)} definitions: {', '.join(sorted(definitions)) or 'none'}")


@app.command("scan")
def run_scan() -> None:
    """Run the stall scan now (the worker runs it every [journeys] stall_scan_seconds)."""
    from seamline.journeys.stalls import scan  # here, not at the top: it reaches identity and cases

    settings = load_settings()
    with transaction(settings) as session:
        changed = scan(session, utcnow(), cases=settings.cases)
    typer.echo(f"{changed} journeys marked stalled or abandoned")


@app.command("collection")
def collection() -> None:
    """Redundant collection: per journey, step and field, how often a value the record held was asked again."""
    from seamline.journeys.service import collection_counts  # here, not at the top: it reaches identity

    table = Table("journey", "step", "field", "asked", "already held", "disagreed")
    with transaction() as session:
        for c in collection_counts(session):
            table.add_row(c.journey, c.step, c.field, str(c.asked), str(c.already_held), str(c.disagreed))
    console().print(table)
