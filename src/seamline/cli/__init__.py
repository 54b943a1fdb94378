"""The `seamline` command line: one Typer app, one file per command group, each imported only when it runs.

`seamline --help` and every command start without importing the parts they do not use: a command group's module
(and so its services, SQLAlchemy models, and for matching pandas, DuckDB and Splink) is imported when that group
is invoked, not when the CLI starts. The summaries shown in `seamline --help` are kept here; a test checks that
each matches its command's own help.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import typer
from typer import _click as click  # typer vendors click: its group API is typed with its own copy
from typer.core import TyperCommand, TyperGroup


class Entry(NamedTuple):
    module: str  # under seamline.cli
    attribute: str  # a Typer app (a group) or a function (one command)
    summary: str  # the first line of its help


COMMANDS: dict[str, Entry] = {
    "serve": Entry("serve", "serve", "Run the API and, by default, a worker beside it."),
    "worker": Entry("serve", "worker", "Run a worker alone."),
    "import": Entry(
        "imports",
        "import_command",
        "Import records: every row is validated first, then all are imported in one transaction, or none.",
    ),
    "db": Entry("db", "app", "Database schema: upgrade and status."),
    "sources": Entry("sources", "app", "Sources and their write keys."),
    "keys": Entry("keys", "app", "API keys for the profile and admin APIs, with their scopes."),
    "audit": Entry("audit", "app", "The audit log of reads and changes of personal data."),
    "identity": Entry("identity", "app", "The identity graph: lookups, merges, unmerge, rebuild."),
    "privacy": Entry("privacy", "app", "Data-subject requests: access exports and erasure."),
    "preferences": Entry("preferences", "app", "The customer's own preference page."),
    "cases": Entry("cases", "app", "Cases: queues, a case's thread and handoff, opening and escalating."),
    "users": Entry("users", "app", "Console users: create, list, disable, enable, set-password, unlock."),
    "match": Entry("matching", "app", "Record matching: train, run a batch, review uncertain pairs, find by record."),
    "events": Entry("events", "app", "The event pipeline: its quarantine of events that failed repeatedly."),
    "dispatcher": Entry("outbox", "dispatcher", "Deliver the outbox (email, paper…)."),
    "outbox": Entry("outbox", "app", "The outbox: what waits to leave, and the dead letters."),
    "destinations": Entry(
        "destinations", "app", "Other systems that receive profile changes and events as signed webhooks."
    ),
    "communications": Entry("communications", "app", "The communications log: other platforms' send logs."),
    "journeys": Entry("journeys", "app", "Journeys: definitions, the board, the stall scan, redundant collection."),
    "tasks": Entry("tasks", "app", "Tasks: work queues, a task's context, picking up and completing."),
    "triggers": Entry("triggers", "app", "Trigger rules: check the files, list the rules, run the due steps."),
    "errors": Entry("errors", "app", "Communication errors: sampling files, the policy file, escalation clocks."),
    "assess": Entry(
        "assess",
        "assess",
        "Write the communications assessment as files for a steering meeting (CSV, JSON and an SVG flow map).",
    ),
    "analytics": Entry("analytics", "app", "Journey analytics: funnels and the paths people took after dropping off."),
    "decisions": Entry("decisions", "app", "The decision point: the action catalog, the propensity model, decisions."),
    "feedback": Entry("feedback", "app", "Feedback: check the survey files, read the rollups and the score trend."),
}


def load(name: str) -> click.Command:
    """The real command behind a name: its module is imported now."""
    entry = COMMANDS[name]
    found = getattr(importlib.import_module(f"seamline.cli.{entry.module}"), entry.attribute)
    if isinstance(found, typer.Typer):
        # A group even when it holds one command (`seamline audit list`).
        command: click.Command = typer.main.get_group(found)
    else:
        single = typer.Typer()
        single.command(name)(found)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyCommands(TyperGroup):
    """Lists every command from COMMANDS, and imports one only when it is the command being run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        # For help listings and completion: a summary that imports nothing.
        entry = COMMANDS.get(cmd_name)
        return None if entry is None else TyperCommand(cmd_name, help=entry.summary, short_help=entry.summary)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return name, (load(name) if name in COMMANDS else command), rest


app = typer.Typer(
    name="seamline",
    cls=LazyCommands,
    help="Seamline: one connected customer experience on one self-hosted foundation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Seamline: one connected customer experience on one self-hosted foundation."""


def main() -> None:
    """Entry point of the `seamline` script."""
    app()
