"""`seamline communications`: import other platforms' send logs into the communications log."""

from __future__ import annotations

import csv
import getpass
from pathlib import Path
from typing import Annotated

import typer

from seamline.audit.service import record
from seamline.cli.session import load_settings, transaction
from seamline.communications.sendlog import import_send_log
from seamline.core.principal import Principal
from seamline.identity.service import IdentityContext

app = typer.Typer(help="The communications log: other platforms' send logs.", no_args_is_help=True)


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV send log with a header row.")],
) -> None:
    """Import a send log (all rows or none); rows already in the log are left as they are."""
    settings = load_settings()
    with path.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    operator = Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")
    with transaction(settings) as session:
        report = import_send_log(session, rows, IdentityContext(settings.identity))
        record(session, operator, "change", "communications", path.name, {"imported": report.added})
    typer.echo(f"{report.rows} rows: {report.added} communications added, {report.known} already in the log")
