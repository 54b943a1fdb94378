"""`seamline identity unmerge` and `rebuild`: they re-derive events through the whole pipeline (every consumer's
domain), so they live apart from the lookups, which start without it."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.cli.params import id_argument
from seamline.cli.session import engine_for, fail, load_settings, transaction
from seamline.core.db import WRITE_INTENT
from seamline.core.errors import SeamlineError
from seamline.core.principal import Principal
from seamline.pipeline import replay
from seamline.pipeline.registry import Pipeline

app = typer.Typer(help="The identity graph: lookups, merges, unmerge, rebuild.", no_args_is_help=True)


def _operator() -> Principal:
    """Whoever runs the CLI on the server: their changes are audited too."""
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("unmerge")
def unmerge(
    merge_id: Annotated[int, id_argument()],
    reason: Annotated[str, typer.Option(help="Why the merge was wrong (kept with the merge record).")],
) -> None:
    """Undo a merge exactly; later evidence of the same pair stays blocked."""
    settings = load_settings()
    with transaction(settings) as session:
        who = _operator()
        result = replay.unmerge(
            session,
            merge_id,
            Pipeline(settings.identity, settings.consent, settings.traits),
            actor=who.name,
            reason=reason,
        )
        for profile_id in result.profiles:
            record(session, who, "change", "profile", profile_id, {"unmerge": merge_id, "reason": reason})
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
