"""Cases through their services on both databases: thread, SLA due times, state machine, inbound routing,
escalation, handoff versions, assignment and listing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from seamline.cases.config import CasesConfig
from seamline.cases.models import Case, CaseEntry, CaseHandoff
from seamline.cases.service import (
    add_entry,
    get_case,
    handoff_history,
    list_cases,
    open_case,
    receive_message,
    update_handoff,
)
from seamline.cases.thread import EntryInput, TransitionRefused
from seamline.cases.workflow import assign, change_priority, change_status, escalate, pick_up
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput, NotFound

CONFIG = CasesConfig()  # UTC, Monday to Friday 09:00-17:00
MONDAY = datetime(2026, 1, 5, 9, tzinfo=UTC)
ANN = 101


def _open(engine: Engine, **kwargs: object) -> int:
    args: dict[str, object] = {"profile_id": ANN, "subject": "Card blocked abroad", "channel": "phone"}
    args.update(kwargs)
    with unit_of_work(engine) as session:
        return open_case(session, CONFIG, actor="maria", surface="console", now=MONDAY, **args).id  # type: ignore[arg-type]  # overrides of any field


def _count(engine: Engine, model: type[Case] | type[CaseEntry] | type[CaseHandoff]) -> int:
    with unit_of_work(engine, write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_case_carries_its_thread_and_its_first_reply_stops_the_first_response_clock(engine: Engine) -> None:
    case_id = _open(
        engine, priority="high", first_entry=EntryInput("phone", "internal", "Called from Lisbon", "agent", "maria")
    )
    with unit_of_work(engine) as session:
        add_entry(
            session, CONFIG, case_id, EntryInput("email", "inbound", "Still blocked!", "customer", "Ann"),
            actor="mail-bridge", surface="api", now=MONDAY + timedelta(minutes=20),
        )  # fmt: skip
        add_entry(
            session, CONFIG, case_id, EntryInput("email", "outbound", "Unblocked it for you", "agent", "maria"),
            actor="maria", surface="console", now=MONDAY + timedelta(minutes=45),
        )  # fmt: skip
        view = get_case(session, CONFIG, case_id, now=MONDAY + timedelta(hours=2))
    assert [(e.kind, e.channel, e.direction, e.author_kind) for e in view.entries] == [
        ("event", "console", "internal", "agent"),
        ("note", "phone", "internal", "agent"),
        ("message", "email", "inbound", "customer"),
        ("message", "email", "outbound", "agent"),
    ]
    assert view.first_response_at == MONDAY + timedelta(minutes=45)
    assert view.sla.first_response.state == "met"
    assert not view.sla.first_response.is_breached
    # high: 8 business hours to resolve, counted from Monday 09:00
    assert view.sla.resolution.due_at == MONDAY + timedelta(hours=8)
    assert view.sla.resolution.state == "running"
    with unit_of_work(engine, write=False) as session:
        row = session.get(Case, case_id)
        assert row is not None
        assert row.resolution_due_at == MONDAY + timedelta(hours=8)


def test_the_state_machine_allows_the_documented_moves_and_refuses_the_rest(engine: Engine) -> None:
    case_id = _open(engine)
    later = MONDAY + timedelta(hours=1)
    with unit_of_work(engine) as session:
        for status in ("pending-customer", "open", "resolved", "open", "resolved", "closed"):
            view = change_status(session, CONFIG, case_id, status, actor="maria", surface="console", now=later)
        assert view.status == "closed"
        assert view.closed_at == later
    entries_before = _count(engine, CaseEntry)
    for status, code in (("open", "invalid_transition"), ("resolved", "invalid_transition"), ("closed", "unchanged")):
        with pytest.raises(TransitionRefused) as refused, unit_of_work(engine) as session:
            change_status(session, CONFIG, case_id, status, actor="maria", surface="console")
        assert [(e.field, e.code) for e in refused.value.errors] == [("status", code)]
    with pytest.raises(TransitionRefused, match="closed"), unit_of_work(engine) as session:
        add_entry(
            session,
            CONFIG,
            case_id,
            EntryInput("chat", "inbound", "hello?", "customer", "Ann"),
            actor="bot",
            surface="api",
        )
    with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
        change_status(session, CONFIG, case_id, "archived", actor="maria", surface="console")
    assert invalid.value.errors[0].field == "status"
    with pytest.raises(InvalidInput, match="not changed"), unit_of_work(engine) as session:
        change_status(session, CONFIG, _open(engine), "escalated", actor="maria", surface="console")
    assert _count(engine, CaseEntry) == entries_before + 1  # only the second case's "opened" entry


def test_pending_customer_pauses_the_sla_and_a_reply_resumes_it(engine: Engine) -> None:
    case_id = _open(engine)  # normal: 3 business days to resolve
    with unit_of_work(engine) as session:
        add_entry(
            session, CONFIG, case_id, EntryInput("email", "outbound", "Please send a photo", "agent", "maria"),
            actor="maria", surface="console", now=MONDAY + timedelta(hours=1),
        )  # fmt: skip
        change_status(
            session, CONFIG, case_id, "pending-customer", actor="maria", surface="console",
            now=MONDAY + timedelta(hours=2),
        )  # fmt: skip
        paused = get_case(session, CONFIG, case_id, now=MONDAY + timedelta(days=10))
        assert (paused.sla.resolution.state, paused.sla.resolution.due_at) == ("paused", None)
        assert paused.sla.resolution.remaining_seconds == (24 - 2) * 3600
        assert list_cases(session, CONFIG, is_overdue=True, now=MONDAY + timedelta(days=10)).cases == []
        # the customer answers a week later (Monday 12th, 09:00): 22 business hours are left
        routed = receive_message(
            session, CONFIG, profile_id=ANN, channel="chat", body="Here is the photo", author_name="Ann",
            actor="chat-bridge", surface="api", now=MONDAY + timedelta(days=7),
        )  # fmt: skip
    assert not routed.is_new
    assert routed.case.status == "open"
    assert routed.case.sla.resolution.due_at == datetime(2026, 1, 14, 15, tzinfo=UTC)
    with unit_of_work(engine, write=False) as session:
        assert [
            c.id for c in list_cases(session, CONFIG, is_overdue=True, now=datetime(2026, 1, 14, 16, tzinfo=UTC)).cases
        ] == [case_id]
        assert list_cases(session, CONFIG, is_overdue=True, now=datetime(2026, 1, 14, 14, tzinfo=UTC)).cases == []


def test_inbound_messages_append_to_the_open_case_of_their_queue_or_open_a_new_one(engine: Engine) -> None:
    def message(body: str, queue: str | None = None, at: timedelta = timedelta(0)) -> tuple[int, bool]:
        with unit_of_work(engine) as session:
            routed = receive_message(
                session, CONFIG, profile_id=ANN, channel="email", body=body, author_name="Ann", queue=queue,
                identifier="email:ann@example.com", actor="mail-bridge", surface="api", now=MONDAY + at,
            )  # fmt: skip
        return routed.case.id, routed.is_new

    first, is_new = message("My card was blocked in Lisbon")
    assert is_new
    assert message("Any news?", at=timedelta(minutes=5)) == (first, False)
    billing, is_new = message("Wrong fee on my statement", queue="billing")
    assert is_new
    assert billing != first
    with unit_of_work(engine) as session:
        view = get_case(session, CONFIG, first)
        assert view.subject == "My card was blocked in Lisbon"
        assert view.queue == "support"
        assert view.entries[1].detail == {"identifier": "email:ann@example.com"}
        change_status(
            session, CONFIG, first, "resolved", actor="maria", surface="console", now=MONDAY + timedelta(hours=1)
        )
    assert message("It happened again", at=timedelta(hours=2)) == (first, False)
    with unit_of_work(engine) as session:
        assert get_case(session, CONFIG, first).status == "open"  # a reply reopens a resolved case
        change_status(session, CONFIG, first, "resolved", actor="maria", surface="console")
        change_status(session, CONFIG, first, "closed", actor="maria", surface="console")
    after_close, is_new = message("Thanks, one more question")
    assert is_new
    assert after_close not in (first, billing)
    # another customer's message never joins Ann's case
    with unit_of_work(engine) as session:
        other = receive_message(
            session, CONFIG, profile_id=202, channel="sms", body="Hi", author_name="Bo", actor="sms", surface="api"
        )
    assert other.is_new


def test_escalation_needs_a_reason_moves_the_case_to_the_supervisors_and_keeps_the_conversation(
    engine: Engine,
) -> None:
    case_id = _open(engine)
    with unit_of_work(engine) as session:
        pick_up(session, CONFIG, case_id, actor="maria", surface="console")
    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
            escalate(session, CONFIG, case_id, reason=reason, actor="maria", surface="console")
        assert [e.field for e in invalid.value.errors] == ["reason"]
    with unit_of_work(engine) as session:
        view = escalate(
            session, CONFIG, case_id, reason="Fraud suspected, needs a supervisor", actor="maria", surface="console"
        )
    assert (view.status, view.queue, view.assignee, view.escalated_from_queue) == (
        "escalated",
        "supervisors",
        None,
        "support",
    )
    assert view.escalation_reason == "Fraud suspected, needs a supervisor"
    assert view.entries[-1].body == "escalated to supervisors: Fraud suspected, needs a supervisor"
    with pytest.raises(TransitionRefused), unit_of_work(engine) as session:
        escalate(session, CONFIG, case_id, reason="again", actor="maria", surface="console")
    with unit_of_work(engine) as session:
        assert [c.id for c in list_cases(session, CONFIG, is_escalated=True).cases] == [case_id]
        assert [c.id for c in list_cases(session, CONFIG, queue="supervisors").cases] == [case_id]
        routed = receive_message(
            session,
            CONFIG,
            profile_id=ANN,
            channel="chat",
            body="Hello?",
            author_name="Ann",
            actor="bot",
            surface="api",
        )
    assert (routed.case.id, routed.is_new) == (case_id, False)


def test_handoff_summaries_are_versioned_and_the_current_one_comes_first(engine: Engine) -> None:
    case_id = _open(engine)
    with unit_of_work(engine) as session:
        update_handoff(
            session, case_id, verified="Date of birth and last transaction", customer_said="Card blocked in Lisbon",
            tried="", actor="maria", surface="console", now=MONDAY,
        )  # fmt: skip
        update_handoff(
            session, case_id, verified="Date of birth and last transaction", customer_said="Card blocked in Lisbon",
            tried="Reset the card's travel flag", next_step="Check the fraud queue", actor="li", surface="console",
            now=MONDAY + timedelta(minutes=30),
        )  # fmt: skip
    with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
        update_handoff(session, case_id, verified=" ", customer_said="", tried="", actor="li", surface="console")
    assert [e.field for e in invalid.value.errors] == ["handoff"]
    with unit_of_work(engine, write=False) as session:
        view = get_case(session, CONFIG, case_id)
        versions = handoff_history(session, case_id)
    assert view.handoff is not None
    assert (view.handoff.version, view.handoff.author, view.handoff.tried) == (2, "li", "Reset the card's travel flag")
    assert list(view.as_dict())[:2] == ["id", "handoff"]
    assert [(v.version, v.author) for v in versions] == [(2, "li"), (1, "maria")]


def test_assignment_pick_up_and_my_cases(engine: Engine) -> None:
    mine, other, free = _open(engine), _open(engine), _open(engine)
    with unit_of_work(engine) as session:
        pick_up(session, CONFIG, mine, actor="maria", surface="console")
        assign(session, CONFIG, other, "li", actor="supervisor", surface="console", queue="cards")
    with pytest.raises(TransitionRefused) as taken, unit_of_work(engine) as session:
        pick_up(session, CONFIG, other, actor="maria", surface="console")
    assert taken.value.errors[0].field == "assignee"
    with pytest.raises(InvalidInput), unit_of_work(engine) as session:
        assign(session, CONFIG, free, " maria", actor="supervisor", surface="console")
    with unit_of_work(engine, write=False) as session:
        assert [c.id for c in list_cases(session, CONFIG, assignee="maria").cases] == [mine]
        assert [c.id for c in list_cases(session, CONFIG, assignee="").cases] == [free]
        assert [c.id for c in list_cases(session, CONFIG, queue="cards").cases] == [other]
        assert get_case(session, CONFIG, other).entries[-1].body == "assigned to li; moved support → cards"


def test_priority_changes_retime_the_clocks(engine: Engine) -> None:
    case_id = _open(engine)
    with unit_of_work(engine) as session:
        view = change_priority(
            session, CONFIG, case_id, "urgent", reason="Customer is stranded", actor="maria", surface="console",
            now=MONDAY + timedelta(minutes=10),
        )  # fmt: skip
    # urgent runs around the clock: 4 hours from opening
    assert view.sla.resolution.due_at == MONDAY + timedelta(hours=4)
    assert view.entries[-1].body == "priority normal → urgent: Customer is stranded"
    with pytest.raises(TransitionRefused), unit_of_work(engine) as session:
        change_priority(session, CONFIG, case_id, "urgent", actor="maria", surface="console")


def test_listing_pages_and_bad_input_names_fields_and_changes_nothing(engine: Engine) -> None:
    ids = [_open(engine) for _ in range(5)]
    with unit_of_work(engine, write=False) as session:
        first = list_cases(session, CONFIG, limit=2)
        second = list_cases(session, CONFIG, limit=2, before=first.next_before)
        last = list_cases(session, CONFIG, limit=2, before=second.next_before)
        assert [c.id for c in first.cases + second.cases + last.cases] == sorted(ids, reverse=True)
        assert last.next_before is None
        with pytest.raises(InvalidInput) as invalid:
            list_cases(session, CONFIG, statuses=["open", "sleeping"], limit=0, queue="Bad Queue")
    assert [(e.field, e.index) for e in invalid.value.errors] == [("status", 1), ("limit", None), ("queue", None)]
    before = (_count(engine, Case), _count(engine, CaseEntry))
    with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
        open_case(
            session, CONFIG, profile_id=ANN, subject="", channel="pigeon", priority="asap", actor="maria",
            surface="console", first_entry=EntryInput("chat", "outbound", "", "customer", "Ann"),
        )  # fmt: skip
    assert [e.field for e in invalid.value.errors] == ["subject", "priority", "channel", "entry.body"]
    assert (_count(engine, Case), _count(engine, CaseEntry)) == before
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        get_case(session, CONFIG, 99_999)
