"""`seamline cases`: list queues and cases, show one case, open a case, escalate — for operators.

Reads and changes are audited under the case's profile with the operator's user name, like every CLI command
that touches personal data.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text
from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.cases.config import CasesConfig
from seamline.cases.service import get_case, list_cases, open_case
from seamline.cases.workflow import escalate
from seamline.cli.output import console
from seamline.cli.params import id_argument, id_option
from seamline.cli.session import load_section, transaction
from seamline.core.principal import Principal

app = typer.Typer(help="Cases: queues, a case's thread and handoff, opening and escalating.", no_args_is_help=True)


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


def _root_of(session: Session, profile_id: int) -> int:
    """The active profile an id was merged into. The identity graph (and its identifiers' rules) is imported here,
    for --profile and `open` alone: at the top it added ~0.15 s to every `seamline cases` command."""
    from seamline.identity.service import root_of

    return root_of(session, profile_id)


@app.command("list")
def list_command(
    queue: Annotated[str | None, typer.Option(help="Only this queue.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Only these statuses (repeat the option).")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only this agent's cases; '' for unassigned ones.")] = None,
    profile: Annotated[int | None, id_option("Only this customer's cases (merged profiles included).")] = None,
    escalated: Annotated[bool | None, typer.Option("--escalated/--not-escalated", help="Escalated or not.")] = None,
    overdue: Annotated[bool | None, typer.Option("--overdue/--on-time", help="Past an SLA due time or not.")] = None,
    limit: Annotated[int, typer.Option(help="Most cases to show (1-200).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")] = False,
) -> None:
    """List cases, newest first, with their SLA state."""
    cases = load_section("cases", CasesConfig)
    operator = _operator()
    with transaction() as session:
        page = list_cases(
            session,
            cases,
            queue=queue,
            statuses=status,
            assignee=assignee,
            profile_id=_root_of(session, profile) if profile is not None else None,
            is_escalated=escalated,
            is_overdue=overdue,
            limit=limit,
        )
        for pid in sorted({v.profile_id for v in page.cases}):
            ids = [v.id for v in page.cases if v.profile_id == pid]
            record(session, operator, "read", "profile", pid, {"view": "cases", "cases": ids})
    if as_json:
        for view in page.cases:
            typer.echo(orjson.dumps(view.as_dict(with_thread=False)).decode())
        return
    table = Table("id", "profile", "priority", "status", "queue", "assignee", "subject", "due (UTC)", "overdue")
    for v in page.cases:
        clock = v.sla.resolution if v.sla.first_response.state != "running" else v.sla.first_response
        cells = (
            str(v.id),
            str(v.profile_id),
            v.priority,
            v.status,
            v.queue,
            v.assignee or "",
            v.subject,
            f"{clock.due_at:%Y-%m-%d %H:%M}" if clock.due_at else clock.state,
            "yes" if v.sla.is_overdue else "",
        )
        table.add_row(*(Text(c) for c in cells))
    console().print(table)


@app.command("show")
def show(
    case_id: Annotated[int, id_argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print the case as JSON.")] = False,
) -> None:
    """Show a case: its handoff summary first, then its SLA clocks and whole thread."""
    cases = load_section("cases", CasesConfig)
    operator = _operator()
    with transaction() as session:
        view = get_case(session, cases, case_id)
        record(session, operator, "read", "profile", view.profile_id, {"view": "case", "case": view.id})
    if as_json:
        typer.echo(orjson.dumps(view.as_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    out = console(highlight=False)
    out.print(Text(f"case {view.id} · {view.subject}", style="bold"))
    out.print(Text(f"{view.priority} · {view.status} · {view.queue} · assignee {view.assignee or '-'}"))
    if view.handoff is not None:
        h = view.handoff
        out.print(Text(f"handoff v{h.version} by {h.author}", style="bold"))
        for label, value in (("verified", h.verified), ("customer said", h.customer_said), ("tried", h.tried)):
            out.print(Text(f"  {label}: {value}"))
        if h.next_step:
            out.print(Text(f"  next: {h.next_step}"))
    for name, c in (("first response", view.sla.first_response), ("resolution", view.sla.resolution)):
        due = f"{c.due_at:%Y-%m-%d %H:%M} UTC" if c.due_at else "-"
        out.print(Text(f"{name}: {c.state}, due {due}{' (breached)' if c.is_breached else ''}"))
    for e in view.entries:
        who = f"{e.author_kind} {e.author_name}"
        out.print(Text(f"{e.created_at:%Y-%m-%d %H:%M} [{e.channel} {e.direction}] {who}: {e.body}"))


@app.command("open")
def open_command(
    profile_id: Annotated[int, id_argument("Any id of the customer's profile (merged ids are followed).")],
    subject: Annotated[str, typer.Option(help="What the case is about.")],
    channel: Annotated[str, typer.Option(help="The channel it came in on: phone, email, chat, branch…")] = "phone",
    priority: Annotated[str, typer.Option(help="urgent, high, normal or low.")] = "normal",
    queue: Annotated[str | None, typer.Option(help="Default: the configured default queue.")] = None,
) -> None:
    """Open a case for a customer."""
    cases = load_section("cases", CasesConfig)
    operator = _operator()
    with transaction() as session:
        view = open_case(
            session,
            cases,
            profile_id=_root_of(session, profile_id),
            origin_profile_id=profile_id,
            subject=subject,
            channel=channel,
            priority=priority,
            queue=queue,
            actor=operator.name,
            surface="cli",
        )
        record(session, operator, "change", "profile", view.profile_id, {"case": view.id, "action": "open"})
    typer.echo(f"case {view.id} opened in {view.queue} for profile {view.profile_id}")


@app.command("escalate")
def escalate_command(
    case_id: Annotated[int, id_argument()],
    reason: Annotated[str, typer.Option(help="Why the case needs a supervisor (required).")],
    queue: Annotated[str | None, typer.Option(help="Default: the configured supervisor queue.")] = None,
) -> None:
    """Escalate a case to the supervisors' queue, with a reason."""
    cases = load_section("cases", CasesConfig)
    operator = _operator()
    with transaction() as session:
        view = escalate(session, cases, case_id, reason=reason, queue=queue, actor=operator.name, surface="cli")
        record(session, operator, "change", "profile", view.profile_id, {"case": view.id, "action": "escalate"})
    typer.echo(f"case {view.id} escalated to {view.queue}")
