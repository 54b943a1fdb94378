"""Settling an escalation through the services on both databases: only a supervisor moves an escalated case on,
and then the case is back in the queue it came from, no longer escalated in any view; a case opened for someone
is theirs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.cases.service import get_case, list_cases, open_case
from seamline.cases.workflow import assign, change_status, escalate, pick_up
from seamline.core.db import unit_of_work
from seamline.core.errors import Forbidden, InvalidInput

CONFIG = CasesConfig()
MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)
ANN = 101


def _escalated(engine: Engine, *, queue: str | None = None) -> int:
    """A case maria opened in support, picked up and escalated (to the supervisors, or to `queue`)."""
    with unit_of_work(engine) as session:
        case_id = open_case(
            session, CONFIG, profile_id=ANN, subject="Refund above my limit", channel="phone", actor="maria",
            surface="console", now=MONDAY,
        ).id  # fmt: skip
        pick_up(session, CONFIG, case_id, actor="maria", surface="console", now=MONDAY)
        escalate(
            session, CONFIG, case_id, reason="Needs a refund over 500", queue=queue, actor="maria", surface="console",
            now=MONDAY + timedelta(minutes=5),
        )  # fmt: skip
    return case_id


@pytest.mark.parametrize("status", ["open", "pending-customer", "resolved"])
def test_an_agent_cannot_move_an_escalated_case_on(engine: Engine, status: str) -> None:
    case_id = _escalated(engine)
    with pytest.raises(Forbidden, match="a supervisor settles it"), unit_of_work(engine) as session:
        change_status(session, CONFIG, case_id, status, actor="maria", surface="console")
    with unit_of_work(engine, write=False) as session:
        case = get_case(session, CONFIG, case_id)
        escalated = [c.id for c in list_cases(session, CONFIG, is_escalated=True).cases]
    assert (case.status, case.queue, case.escalated_by) == ("escalated", "supervisors", "maria")
    assert escalated == [case_id]
    assert case.entries[-1].status == "escalated"  # nothing was written


def test_a_supervisor_settles_an_escalation_and_the_case_is_back_where_it_came_from(engine: Engine) -> None:
    case_id = _escalated(engine)
    with unit_of_work(engine) as session:
        pick_up(session, CONFIG, case_id, actor="sam", surface="console")
        view = change_status(
            session, CONFIG, case_id, "open", reason="Refund approved; Maria can finish", may_supervise=True,
            actor="sam", surface="console", now=MONDAY + timedelta(hours=1),
        )  # fmt: skip
    assert (view.status, view.queue, view.assignee) == ("open", "support", "sam")
    assert (view.escalated_at, view.escalated_by, view.escalation_reason, view.escalated_from_queue) == (
        None,
        None,
        None,
        None,
    )
    assert view.as_dict()["escalation"] is None
    settled = view.entries[-1]
    assert settled.body == "escalated → open; back to support: Refund approved; Maria can finish"
    assert settled.detail["escalation"]["reason"] == "Needs a refund over 500"
    assert settled.detail["escalation"]["by"] == "maria"
    assert settled.detail["queue"] == ["supervisors", "support"]
    with unit_of_work(engine, write=False) as session:
        assert list_cases(session, CONFIG, is_escalated=True).cases == []
        assert [c.id for c in list_cases(session, CONFIG, queue="support", assignee="sam").cases] == [case_id]
        assert list_cases(session, CONFIG, queue="supervisors").cases == []


def test_an_unassigned_escalation_settled_waits_in_its_own_queue_and_a_custom_escalation_queue_returns_too(
    engine: Engine,
) -> None:
    case_id = _escalated(engine, queue="fraud")
    with unit_of_work(engine) as session:
        view = change_status(
            session, CONFIG, case_id, "resolved", may_supervise=True, actor="team-leads", surface="api"
        )
    assert (view.status, view.queue, view.assignee, view.escalated_at) == ("resolved", "support", None, None)
    with unit_of_work(engine, write=False) as session:
        assert [
            c.id for c in list_cases(session, CONFIG, statuses=["resolved"], assignee="", queue="support").cases
        ] == [case_id]


def test_a_queue_a_supervisor_chose_is_kept_when_the_escalation_is_settled(engine: Engine) -> None:
    case_id = _escalated(engine)
    with unit_of_work(engine) as session:
        assign(session, CONFIG, case_id, "lee", queue="refunds", actor="sam", surface="console")
        view = change_status(session, CONFIG, case_id, "open", may_supervise=True, actor="sam", surface="console")
    assert (view.status, view.queue, view.assignee, view.escalated_at) == ("open", "refunds", "lee", None)


def test_a_case_opened_for_someone_is_theirs(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        view = open_case(
            session, CONFIG, profile_id=ANN, subject="Card declined", channel="phone", assignee="maria",
            actor="maria", surface="console",
        )  # fmt: skip
        mine = [c.id for c in list_cases(session, CONFIG, assignee="maria").cases]
    assert (view.assignee, view.queue, view.entries[0].body) == (
        "maria",
        "support",
        "opened in support (normal), assigned to maria",
    )
    assert mine == [view.id]
    with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
        open_case(
            session, CONFIG, profile_id=ANN, subject="Card declined", channel="phone", assignee=" ", actor="maria",
            surface="console",
        )  # fmt: skip
    assert [e.field for e in invalid.value.errors] == ["assignee"]
