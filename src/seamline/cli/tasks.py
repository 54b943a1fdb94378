"""`seamline tasks`: work queues, one task, picking up and completing — for operators and supervisors.

Reads and changes are audited under the task's profile with the operator's user name.
"""

from __future__ import annotations

import getpass
from dataclasses import asdict
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.params import id_argument
from seamline.cli.session import load_settings, transaction
from seamline.core.principal import Principal
from seamline.tasks.lifecycle import ACTIVE
from seamline.tasks.service import FollowUp, complete, get_task, list_tasks, pick_up

app = typer.Typer(help="Tasks: work queues, a task's context, picking up and completing.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


@app.command("list")
def list_command(
    queue: Annotated[list[str] | None, typer.Option(help="Only these queues (repeat the option).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="open, in-progress, done (repeat); default active.")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this person's tasks.")] = None,
    limit: Annotated[int, typer.Option(help="Most tasks to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")] = False,
) -> None:
    """List a work queue: tasks soonest due first."""
    operator = _operator()
    with transaction() as session:
        views = list_tasks(session, queues=queue, statuses=status or ACTIVE, assignee=assignee, limit=limit)
        for pid in sorted({v.profile_id for v in views}):
            ids = [v.id for v in views if v.profile_id == pid]
            record(session, operator, "read", "profile", pid, {"view": "tasks", "tasks": ids})
    if as_json:
        for view in views:
            typer.echo(orjson.dumps(asdict(view)).decode())
        return
    table = Table("id", "profile", "priority", "status", "queue", "skills", "assignee", "title", "due (UTC)", "overdue")
    for v in views:
        cells = (
            str(v.id), str(v.profile_id), v.priority, v.status, v.queue, ", ".join(v.skills), v.assignee or "",
            v.title, f"{v.due_at:%Y-%m-%d %H:%M}", "yes" if v.is_overdue else "",
        )  # fmt: skip
        table.add_row(*(Text(c) for c in cells))
    console().print(table)


@app.command("show")
def show(task_id: Annotated[int, id_argument()]) -> None:
    """Show a task with its context (journey, case, communications, what started it) as JSON."""
    operator = _operator()
    with transaction() as session:
        view = get_task(session, task_id)
        record(session, operator, "read", "profile", view.profile_id, {"view": "task", "tasks": [view.id]})
    typer.echo(orjson.dumps(asdict(view), option=orjson.OPT_INDENT_2).decode())


@app.command("pick-up")
def pick_up_command(
    task_id: Annotated[int, id_argument()],
    agent: Annotated[str, typer.Option(help="The person taking it.")],
) -> None:
    """Take a task: it is the agent's, in progress."""
    operator = _operator()
    with transaction() as session:
        view = pick_up(session, task_id, actor=agent)
        record(session, operator, "change", "profile", view.profile_id, {"task": view.id, "action": "pick-up"})
    typer.echo(f"task {view.id} picked up by {view.assignee}")


@app.command("complete")
def complete_command(
    task_id: Annotated[int, id_argument()],
    agent: Annotated[str, typer.Option(help="Who did it.")],
    outcome: Annotated[str, typer.Option(help="resolved, referred, no-contact or not-needed.")],
    note: Annotated[str, typer.Option(help="What was done or agreed.")] = "",
    follow_up: Annotated[str | None, typer.Option(help="Make a follow-up task with this title.")] = None,
    follow_up_minutes: Annotated[int, typer.Option(help="Business minutes until the follow-up is due.")] = 480,
) -> None:
    """Record what came of a task, and optionally its follow-up."""
    settings = load_settings()
    operator = _operator()
    follow = FollowUp(follow_up, follow_up_minutes) if follow_up else None
    with transaction(settings) as session:
        view, made = complete(
            session, task_id, actor=agent, outcome=outcome, note=note, follow_up=follow, config=settings.tasks,
            calendar=settings.cases.calendar.calendar(),
        )  # fmt: skip
        record(session, operator, "change", "profile", view.profile_id, {"task": view.id, "action": "complete"})
    typer.echo(f"task {view.id} done: {view.outcome}" + (f"; follow-up task {made.id}" if made else ""))
