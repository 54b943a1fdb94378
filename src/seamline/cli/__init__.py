"""The `seamline` command line: one Typer app, one file per command group, each imported only when it runs.

`seamline --help` and every command start without importing the parts they do not use. The registry has two
levels: COMMANDS lists the top-level commands and groups, GROUPS lists each group's subcommands. A group's `--help`
is written from these summaries alone, and a subcommand imports only the module it lives in (and so its services,
SQLAlchemy models, and for matching pandas, DuckDB and Splink) when it runs; a group keeps the subcommands that need
much more than the rest (the whole pipeline, the dispatcher, the matching model) in a module of their own. A test
checks that every summary matches its command's own help and that every subcommand is listed.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import NamedTuple

import typer
from typer import _click as click  # typer vendors click: its group API is typed with its own copy
from typer.core import TyperCommand, TyperGroup

# A parameter nobody gave costs no pydantic adapter (see there); a Typer release without the private names it
# replaces keeps its own coercion.
with contextlib.suppress(ImportError, AttributeError):
    from seamline.cli import coercion  # noqa: F401  # imported for its effect: it replaces Typer's coercion


class Entry(NamedTuple):
    module: str  # under seamline.cli
    attribute: str  # a Typer app (a group) or a function (one command)
    summary: str  # the first line of its help


class Sub(NamedTuple):
    summary: str  # the first paragraph of its help
    module: str | None = None  # under seamline.cli, when not its group's module; its Typer app has the same name


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
    "dispatcher": Entry("dispatcher", "dispatcher", "Deliver the outbox (email, paper…)."),
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


# The second level: each group's subcommands, in the order its help lists them.
GROUPS: dict[str, dict[str, Sub]] = {
    "db": {
        "upgrade": Sub("Apply migrations up to REVISION (default: the newest)."),
        "status": Sub("Show the current and the newest revision; exit 1 when an upgrade is due."),
    },
    "sources": {
        "create": Sub("Create a source and print its write key. The key is shown this once; only its hash is kept."),
        "list": Sub("List sources with their status and how many events each sent and had processed."),
        "revoke": Sub("Revoke a source's write key at once; its stored events stay."),
        "rotate": Sub("Give a source a new write key (the old one stops working) and print it once."),
    },
    "keys": {
        "create": Sub("Create an API key and print it. The key is shown this once; only its hash is kept."),
        "list": Sub("List API keys with their scopes, status and last use."),
        "revoke": Sub("Revoke an API key at once."),
    },
    "audit": {"list": Sub("List audit entries, newest first.")},
    "identity": {
        "lookup": Sub("Print the profile that holds an identifier (normalized as the worker normalizes it)."),
        "merges": Sub("Merge history of a profile: who was merged, on what evidence, and what was undone."),
        "unmerge": Sub("Undo a merge exactly; later evidence of the same pair stays blocked.", "identity_replay"),
        "rebuild": Sub(
            "Re-derive the graph from the event log under the current rules; report what would change.",
            "identity_replay",
        ),
    },
    "privacy": {
        "request": Sub("Open a data-subject request; it is due in 30 days."),
        "complete": Sub("Complete a request: print (or write) the export of an access request, or erase the person."),
        "list": Sub("List requests, newest first, with their status and due date."),
    },
    "preferences": {
        "link": Sub(
            "Print a signed link to a person's preference page; put the server's public address in front of it."
        ),
    },
    "cases": {
        "list": Sub("List cases, newest first, with their SLA state."),
        "show": Sub("Show a case: its handoff summary first, then its SLA clocks and whole thread."),
        "open": Sub("Open a case for a customer."),
        "escalate": Sub("Escalate a case to the supervisors' queue, with a reason."),
    },
    "users": {
        "create": Sub("Create a console user; the password is asked for twice and stored only as an argon2id hash."),
        "list": Sub("List console users with their role and status (a lock-out shows until it ends)."),
        "disable": Sub("Stop a user from signing in and end their sessions at once."),
        "enable": Sub("Let a disabled user sign in again."),
        "set-password": Sub("Give a user a new password (asked for twice); their sessions end."),
        "unlock": Sub("Lift a lock-out after failed logins at once."),
    },
    "analytics": {
        "funnel": Sub("A funnel: per step, who reached it, conversion, drop-off and the time from the step before."),
        "paths": Sub(
            "What people did next after dropping off at a step: events, journey steps, communications and cases."
        ),
    },
    "feedback": {
        "check": Sub(
            "Check a folder of survey files as the server loads them; list them, or name the file, line and field."
        ),
        "rollup": Sub(
            "Answers grouped by touchpoint, agent, journey step, communication type or survey, beside the errors and "
            "cases of the same people."
        ),
        "questions": Sub("Every rated question of every survey: answers, its figure and how its scores spread."),
        "trend": Sub("CSAT %, NPS and CES mean per day or week."),
    },
    "match": {
        "train": Sub("Train a new model version on the current profiles (and reviewers' accepted pairs)."),
        "run": Sub(
            "Score every blocked pair of profiles: merge above the merge threshold, queue the grey band for review."
        ),
        "reviews": Sub("The review queue (or the pairs in another status), oldest first."),
        "show": Sub("One pair, field by field: both values, the level they met and its weight in the score."),
        "accept": Sub("Accept a pair: merge it through the identity graph, as an automatic merge is."),
        "reject": Sub("Reject a pair: keep the two apart in later runs."),
        "find": Sub("Candidate profiles for a record, tolerant of typos and nicknames (the real-time matcher)."),
        "export": Sub("Which active profile each imported source record ended in, with the evidence of every join."),
        "findings": Sub(
            "Data-quality findings: matched records holding national ids that differ, with the systems holding each id."
        ),
    },
    "events": {"quarantine": Sub("Events set aside after failing repeatedly, with why.")},
    "outbox": {
        "status": Sub("How many messages are in each state."),
        "dead-letters": Sub("Messages that ran out of retries: inspect, replay or discard."),
    },
    "destinations": {
        "add": Sub("Register a destination; prints its signing secret once (give it to the receiver)."),
        "list": Sub("Every destination, its purpose, subscriptions and state."),
        "pause": Sub("Hold deliveries to a destination (they wait; nothing is dropped)."),
        "resume": Sub("Deliver again, starting with what waited."),
        "replay": Sub("Send a destination again what it was sent (or failed to be sent) since a time."),
    },
    "communications": {
        "import": Sub("Import a send log (all rows or none); rows already in the log are left as they are."),
    },
    "journeys": {
        "load": Sub(
            "Load (or reload) definition files: all or none; a bad file names its line and field and changes nothing."
        ),
        "list": Sub(
            "The running definitions and, per step, how many instances are open, stalled, abandoned or completed."
        ),
        "scan": Sub("Run the stall scan now (the worker runs it every [journeys] stall_scan_seconds)."),
        "collection": Sub(
            "Redundant collection: per journey, step and field, how often a value the record held was asked again."
        ),
    },
    "tasks": {
        "list": Sub("List a work queue: tasks soonest due first."),
        "show": Sub("Show a task with its context (journey, case, communications, what started it) as JSON."),
        "pick-up": Sub("Take a task: it is the agent's, in progress."),
        "complete": Sub("Record what came of a task, and optionally its follow-up."),
    },
    "triggers": {
        "check": Sub(
            "Check a folder of rule files as the worker loads them; list them, or name the file, line and field at "
            "fault."
        ),
        "run-due": Sub("Do the waiting steps that are due now, once (the worker does this between batches)."),
    },
    "errors": {
        "import": Sub(
            "Import a quality-control sampling file: every row is checked first, then all are reported, or none."
        ),
        "check-policy": Sub(
            "Check a policy file: every mistake with its line and field; exit 2 when it would not load."
        ),
        "run-due": Sub("Check every escalation clock now (the worker does this every `[errors] check_seconds`)."),
    },
    "decisions": {
        "check": Sub("Validate an action catalog: every bad file is named with its line and field."),
        "model": Sub(
            "The propensity model: each action's Beta-Bernoulli counts per segment and its mean acceptance rate."
        ),
        "decide": Sub("The next best actions for a person, and the rule that stopped every other action."),
    },
}


def _stub(name: str, summary: str) -> click.Command:
    """A command that only names itself, for help listings and completion: it imports nothing."""
    return TyperCommand(name, help=summary, short_help=summary)


def load_group(name: str, module: str) -> TyperGroup:
    """A group's real commands in one of its modules (imported now)."""
    return typer.main.get_group(getattr(importlib.import_module(f"seamline.cli.{module}"), COMMANDS[name].attribute))


class LazyGroup(TyperGroup):
    """A group listed from GROUPS: its help imports nothing, and a subcommand imports only the module it lives in,
    when it is the subcommand being run. A name GROUPS does not list is looked for in the group's own module."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, help=COMMANDS[name].summary, no_args_is_help=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(GROUPS[str(self.name)])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        sub = GROUPS[str(self.name)].get(cmd_name)
        return None if sub is None else _stub(cmd_name, sub.summary)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = str(self.name)
        sub = GROUPS[name].get(args[0])
        module = sub.module if sub is not None and sub.module else COMMANDS[name].module
        found: tuple[str | None, click.Command | None, list[str]] = load_group(name, module).resolve_command(ctx, args)
        return found


def load(name: str) -> click.Command:
    """The real command behind a name: its module is imported now (a group's, when one of its commands runs)."""
    if name in GROUPS:
        return LazyGroup(name)
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
        return None if entry is None else _stub(cmd_name, entry.summary)

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
