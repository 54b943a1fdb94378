"""`seamline identity`: look people up and read merge history (unmerge and rebuild, which re-derive events through
the whole pipeline, are in `identity_replay`, so these start without importing every consumer)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.params import id_argument
from seamline.cli.session import fail, load_settings, transaction
from seamline.core.errors import InvalidInput
from seamline.core.principal import Principal
from seamline.identity.service import IdentityContext, find_profile, merge_history

app = typer.Typer(help="The identity graph: lookups, merges, unmerge, rebuild.", no_args_is_help=True)


def _operator() -> Principal:
    """Whoever runs the CLI on the server: their reads and changes of personal data are audited too."""
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("lookup")
def lookup(identifier: Annotated[str, typer.Argument(help="type:value, e.g. email:ada@example.com")]) -> None:
    """Print the profile that holds an identifier (normalized as the worker normalizes it)."""
    settings = load_settings()
    with transaction(settings) as session:
        try:
            # Parsing an identifier reads only its type's rule: the identity context, not the consumers.
            found = find_profile(session, identifier, IdentityContext(settings.identity))
        except ValueError as exc:
            raise fail(InvalidInput(message=str(exc))) from None
        record(session, _operator(), "read", "profile", found.profile_id, {"view": "lookup"})
    typer.echo(f"profile {found.profile_id}")
    for ident in found.identifiers:
        typer.echo(f"  {ident}")


@app.command("merges")
def merges(profile_id: Annotated[int, id_argument()]) -> None:
    """Merge history of a profile: who was merged, on what evidence, and what was undone."""
    with transaction() as session:
        history = merge_history(session, profile_id)
        record(session, _operator(), "read", "profile", profile_id, {"view": "merges"})
    table = Table("merge", "into", "merged", "rule", "evidence", "event", "at", "undone")
    for m in history:
        table.add_row(
            str(m.id),
            str(m.profile_id),
            str(m.merged_profile_id),
            m.rule,
            f"{m.identifier_type}:{m.identifier_value}" if m.identifier_type else "-",
            str(m.event_id or "-"),
            m.created_at.isoformat(timespec="seconds"),
            f"{m.undone_at:%Y-%m-%d %H:%M} by {m.undone_by}: {m.undo_reason}" if m.undone_at else "",
        )
    console().print(table)  # made per command, so it sizes to the terminal it prints on
