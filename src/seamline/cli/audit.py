"""`seamline audit`: who read or changed what personal data, when, and through which surface."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from seamline.audit import service
from seamline.audit.service import AuditEntryView
from seamline.cli.output import console
from seamline.cli.params import id_option
from seamline.cli.session import transaction
from seamline.core.clock import isoformat_z

app = typer.Typer(help="The audit log of reads and changes of personal data.", no_args_is_help=True)


def _subject(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    subject_type, _, subject_id = value.partition(":")
    if not subject_type or (":" in value and not subject_id):
        raise typer.BadParameter(f"{value!r} is not TYPE or TYPE:ID, e.g. profile:123", param_hint="--subject")
    return subject_type, subject_id or None


def _as_json(entry: AuditEntryView) -> bytes:
    return orjson.dumps(
        {
            "id": entry.id,
            "at": isoformat_z(entry.at),
            "actor": entry.actor,
            "actor_kind": entry.actor_kind,
            "surface": entry.surface,
            "action": entry.action,
            "subject_type": entry.subject_type,
            "subject_id": entry.subject_id,
            "detail": entry.detail,
        }
    )


@app.command("list")
def list_command(
    subject: Annotated[
        str | None, typer.Option(help="Only entries about this subject: TYPE or TYPE:ID, e.g. profile:123.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only entries by this actor (an API key or user name).")] = None,
    limit: Annotated[int, typer.Option(help=f"Most entries to show (1-{service.MAX_ENTRIES}).")] = 100,
    before: Annotated[int | None, id_option("Only entries older than this id, to page on.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")] = False,
) -> None:
    """List audit entries, newest first."""
    subject_type, subject_id = _subject(subject)
    # Reading the audit log is itself not audited here: the operator at the CLI already holds the database.
    with transaction() as session:
        found = service.entries(
            session, subject_type=subject_type, subject_id=subject_id, actor=actor, limit=limit, before_id=before
        )
    if as_json:
        for entry in found:
            typer.echo(_as_json(entry).decode())
        return
    table = Table("id", "at (UTC)", "actor", "surface", "action", "subject", "detail")
    for entry in found:
        cells = (
            str(entry.id),
            f"{entry.at:%Y-%m-%d %H:%M:%S}",
            f"{entry.actor} ({entry.actor_kind})",
            entry.surface,
            entry.action,
            f"{entry.subject_type}:{entry.subject_id}",
            orjson.dumps(entry.detail).decode() if entry.detail else "",
        )
        table.add_row(*(Text(cell) for cell in cells))  # stored values are shown as they are, never read as markup
    console().print(table)  # made here, so it takes the width COLUMNS gives at the time
