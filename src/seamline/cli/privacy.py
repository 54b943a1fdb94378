"""`seamline privacy`: data-subject requests — open them, complete them (export or erase), list them.

Opening and completing a request import the privacy service, which reaches every domain that holds personal data,
when they run; listing reads the requests alone (`seamline privacy list` took 1.3 s on a quiet machine with the
service imported at the top)."""

from __future__ import annotations

import contextlib
import getpass
from pathlib import Path
from typing import Annotated, Literal

import orjson
import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.params import id_argument
from seamline.cli.session import engine_for, err, load_settings, transaction
from seamline.core.db import erase_wal
from seamline.core.principal import Principal
from seamline.privacy.requests import get_request, list_requests

app = typer.Typer(help="Data-subject requests: access exports and erasure.", no_args_is_help=True)
KINDS: dict[str, Literal["access", "erasure"]] = {"access": "access", "erase": "erasure", "erasure": "erasure"}


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("request")
def request(
    kind: Annotated[str, typer.Argument(help="access or erase")],
    profile_id: Annotated[int, id_argument("The profile the request is about (merged ids are followed).")],
) -> None:
    """Open a data-subject request; it is due in 30 days."""
    from seamline.privacy.service import open_request  # every domain's service: when it runs (module docstring)

    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not access or erase", param_hint="KIND")
    operator = _operator()
    with transaction() as session:
        view = open_request(session, KINDS[kind], profile_id, requested_by=operator.name)
        record(session, operator, "change", "profile", view.profile_id, {"privacy_request": view.id, "kind": view.kind})
    typer.echo(f"request {view.id}: {view.kind} of profile {view.profile_id}, due {view.due_at:%Y-%m-%d}")


@app.command("complete")
def complete(
    request_id: Annotated[int, id_argument()],
    output: Annotated[Path | None, typer.Option(help="Write an access export to this file (default: stdout).")] = None,
) -> None:
    """Complete a request: print (or write) the export of an access request, or erase the person.

    The export is written before the request is marked done, so a file that cannot be written leaves the request
    open (exit 2); a done access request is exported again.
    """
    from seamline.privacy.service import complete_access, erase_profile  # when it runs (see the module docstring)

    settings = load_settings()
    operator = _operator()
    with transaction(settings) as session:
        view = get_request(session, request_id)
        if view.kind != "access":
            done = erase_profile(session, request_id)
            record(session, operator, "change", "profile", view.profile_id, {"erased": True, "request": view.id})
        else:
            export = complete_access(session, request_id, survivorship=settings.survivorship)
            record(session, operator, "read", "profile", view.profile_id, {"view": "access_export", "request": view.id})
            # Inside the transaction: it commits (the request done, the read audited) only once the export is out.
            _deliver(orjson.dumps(export, option=orjson.OPT_INDENT_2), output)
            done = None
    if done is not None:
        engine = engine_for(settings)
        try:
            if not erase_wal(engine):
                typer.echo(
                    "warning: a reader kept the SQLite WAL from being truncated; stop the server and run "
                    "`seamline privacy complete` again, or wait for its next erasure",
                    err=True,
                )
        finally:
            engine.dispose()
        typer.echo(f"request {done.id}: profile {done.profile_id} erased")
        typer.echo(orjson.dumps(done.result, option=orjson.OPT_SORT_KEYS).decode())
    elif output is not None:
        typer.echo(f"request {view.id}: export written to {output}")


def _deliver(data: bytes, output: Path | None) -> None:
    """Print the export, or write it whole to `output` (a temporary file renamed over it: never half a file);
    exit 2 when it cannot be written."""
    if output is None:
        typer.echo(data.decode())
        return
    partial = output.with_name(f".{output.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(output)
    except OSError as exc:
        with contextlib.suppress(OSError):  # nothing may be left behind; there may be nothing to remove
            partial.unlink()
        err.print(
            f"[red]error:[/red] cannot write the export to {escape(str(output))}: {escape(exc.strerror or str(exc))}"
        )
        err.print("the request was not completed; run the command again with a path that can be written")
        raise typer.Exit(2) from None


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="Only requests of this status: open, done, refused.")] = None,
    limit: Annotated[int, typer.Option(help="Most requests to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")] = False,
) -> None:
    """List requests, newest first, with their status and due date."""
    with transaction() as session:
        found = list_requests(session, status=status, limit=limit)
    if as_json:
        for view in found:
            typer.echo(orjson.dumps(view.as_dict()).decode())
        return
    table = Table("id", "kind", "profile", "status", "requested by", "due (UTC)", "completed (UTC)")
    for v in found:
        cells = (
            str(v.id),
            v.kind,
            str(v.profile_id),
            v.status,
            v.requested_by,
            f"{v.due_at:%Y-%m-%d}",
            f"{v.completed_at:%Y-%m-%d %H:%M}" if v.completed_at else "",
        )
        table.add_row(*(Text(c) for c in cells))
    console().print(table)
