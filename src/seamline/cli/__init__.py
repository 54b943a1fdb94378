"""The `seamline` command line: one Typer app, one file per command group."""

from __future__ import annotations

import typer

from seamline.cli import (
    audit,
    cases,
    communications,
    db,
    destinations,
    identity,
    imports,
    keys,
    matching,
    outbox,
    preferences,
    privacy,
    serve,
    sources,
    users,
)

app = typer.Typer(
    name="seamline",
    help="Seamline: one connected customer experience on one self-hosted foundation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve.serve)
app.command("worker")(serve.worker)
app.command("dispatcher")(outbox.dispatcher)
app.command("import")(imports.import_command)
app.add_typer(db.app, name="db")
app.add_typer(sources.app, name="sources")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(identity.app, name="identity")
app.add_typer(privacy.app, name="privacy")
app.add_typer(preferences.app, name="preferences")
app.add_typer(cases.app, name="cases")
app.add_typer(users.app, name="users")
app.add_typer(matching.app, name="match")
app.add_typer(outbox.app, name="outbox")
app.add_typer(destinations.app, name="destinations")
app.add_typer(communications.app, name="communications")


def main() -> None:
    """Entry point of the `seamline` script."""
    app()
