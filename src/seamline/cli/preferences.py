"""`seamline preferences`: links to a person's own preference page."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from seamline.audit.service import record
from seamline.cli.params import id_argument
from seamline.cli.session import load_settings, transaction
from seamline.core.clock import utcnow
from seamline.core.principal import Principal
from seamline.preferences.service import DEFAULT_LINK_DAYS, MAX_LINK_DAYS, issue_link, signing_secret

app = typer.Typer(help="The customer's own preference page.", no_args_is_help=True)


@app.command("link")
def link(
    profile_id: Annotated[int, id_argument("The profile (a merged-away id leads to the surviving profile).")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=MAX_LINK_DAYS, help="How many days the link works.")
    ] = DEFAULT_LINK_DAYS,
) -> None:
    """Print a signed link to a person's preference page; put the server's public address in front of it."""
    settings = load_settings()
    operator = Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")
    with transaction(settings) as session:
        issued = issue_link(session, profile_id, days=days, secret=signing_secret(settings), now=utcnow())
        detail = {"preference_link_expires_at": issued.expires_at.isoformat()}
        record(session, operator, "change", "profile", issued.profile_id, detail)
    typer.echo(issued.path)
    typer.echo(f"profile {issued.profile_id}; works until {issued.expires_at:%Y-%m-%d %H:%M} UTC")
