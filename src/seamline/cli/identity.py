"""`seamline identity`: look people up, read merge history, unmerge, rebuild the graph from the event log."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.params import id_argument
from seamline.cli.session import engine_for, fail, load_settings, transaction
from seamline.core.db import WRITE_INTENT
from seamline.core.errors import InvalidInput, SeamlineError
from seamline.core.principal import Principal
from seamline.identity.service import find_profile, merge_history
from seamline.pipeline import replay
from seamline.pipeline.registry import Pipeline

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
            found = find_profile(session, identifier, Pipeline(settings.identity, settings.consent, settings.traits))
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


@app.command("unmerge")
def unmerge(
    merge_id: Annotated[int, id_argument()],
    reason: Annotated[str, typer.Option(help="Why the merge was wrong (kept with the merge record).")],
) -> None:
    """Undo a merge exactly; later evidence of the same pair stays blocked."""
    settings = load_settings()
    with transaction(settings) as session:
        operator = _operator()
        result = replay.unmerge(
            session,
            merge_id,
            Pipeline(settings.identity, settings.consent, settings.traits),
            actor=operator.name,
            reason=reason,
        )
        for profile_id in result.profiles:
            record(session, operator, "change", "profile", profile_id, {"unmerge": merge_id, "reason": reason})
    typer.echo(
        f"unmerged #{result.merge_id}: profiles {', '.join(map(str, result.profiles))} "
        f"({result.events_replayed} events re-derived)"
    )


@app.command("rebuild")
def rebuild(
    apply: Annotated[bool, typer.Option("--apply", help="Commit the rebuilt graph (default: report only).")] = False,
) -> None:
    """Re-derive the graph from the event log under the current rules; report what would change."""
    settings = load_settings()
    engine = engine_for(settings)
    try:
        with Session(engine.execution_options(**{WRITE_INTENT: True})) as session:
            session.begin()
            try:
                report = replay.rebuild(session, Pipeline(settings.identity, settings.consent, settings.traits))
            except SeamlineError as exc:
                session.rollback()
                raise fail(exc) from None
            if apply:
                session.commit()
            else:
                session.rollback()
    finally:
        engine.dispose()
    typer.echo(f"events replayed:  {report.events}")
    typer.echo(f"profiles:         {report.profiles_before} -> {report.profiles_after}")
    typer.echo(f"active merges:    {report.merges_before} -> {report.merges_after}")
    typer.echo(f"events that moved to other company: {report.events_moved}")
    typer.echo(f"profiles whose events changed:      {report.changed_profiles}")
    typer.echo("applied." if apply else "dry run: nothing changed (use --apply to commit).")
