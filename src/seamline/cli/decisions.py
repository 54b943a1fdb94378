"""`seamline decisions`: check the action catalog, inspect the propensity model, ask for a person's next best
actions (the same service the decision API calls)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.session import load_settings, transaction
from seamline.core.principal import Principal
from seamline.decisions.arbitration import Situation
from seamline.decisions.catalog import Catalog, CatalogError
from seamline.decisions.service import Setup, decide, model_state
from seamline.identity.service import IdentityContext, find_profile

app = typer.Typer(help="The decision point: the action catalog, the propensity model, decisions.", no_args_is_help=True)


def _setup() -> Setup:
    settings = load_settings()
    try:
        return Setup.build(settings.decisions, settings.consent, settings.survivorship, settings.cases)
    except CatalogError as exc:
        console(stderr=True).print(str(exc), markup=False)
        raise typer.Exit(1) from None


@app.command("check")
def check_command(
    folder: Annotated[
        Path | None, typer.Argument(help="A folder of action files (default: the configured one).")
    ] = None,
) -> None:
    """Validate an action catalog: every bad file is named with its line and field."""
    where = folder or load_settings().decisions.catalog_dir
    try:
        catalog = Catalog(where)
    except CatalogError as exc:
        console(stderr=True).print(str(exc), markup=False)
        raise typer.Exit(1) from None
    typer.echo(f"{len(catalog.actions)} actions in {where}: {', '.join(a.name for a in catalog.actions)}")


@app.command("model")
def model_command(segment: Annotated[str | None, typer.Option(help="Only this segment.")] = None) -> None:
    """The propensity model: each action's Beta-Bernoulli counts per segment and its mean acceptance rate."""
    setup = _setup()
    with transaction() as session:
        rows = model_state(session, setup.catalog, segment)
    table = Table("action", "segment", "shown", "accepted", "ignored", "converted", "alpha", "beta", "mean")
    for r in rows:
        table.add_row(r.action, r.segment, *(str(v) for v in (r.shown, r.accepted, r.ignored, r.converted)),
                      f"{r.alpha:g}", f"{r.beta:g}", f"{r.mean:.3f}")  # fmt: skip
    console().print(table)


@app.command("decide")
def decide_command(
    person: Annotated[str, typer.Argument(help="Any identifier: email:…, user_id:…, phone:…")],
    channel: Annotated[str, typer.Option(help="The channel asking.")] = "email",
    placement: Annotated[str | None, typer.Option()] = None,
) -> None:
    """The next best actions for a person, and the rule that stopped every other action."""
    settings = load_settings()
    setup = _setup()
    operator = Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")
    with transaction(settings) as session:
        try:
            found = find_profile(session, person, IdentityContext(settings.identity))
        except ValueError as exc:
            console(stderr=True).print(f"person: {exc}", markup=False)
            raise typer.Exit(2) from None
        decided = decide(session, found.profile_id, Situation(channel, placement), setup)
        record(session, operator, "read", "profile", decided.profile_id, {"decision": channel})
    out = console()
    out.print(f"profile {decided.profile_id} · segment {decided.segment} · {decided.timezone}", markup=False)
    for rank, chosen in enumerate(decided.decision.ranked, 1):
        out.print(f"{rank}. {chosen.action.name} ({chosen.score:.3f}): " + "; ".join(chosen.reasons), markup=False)
    for stopped in decided.decision.stopped:
        out.print(f"   not {stopped.action.name}: {stopped.stage}/{stopped.rule}: {stopped.reason}", markup=False)
