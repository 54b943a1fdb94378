"""Data-subject requests reach cases: the access export holds them whole, erasure leaves no personal text."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.cases.models import Case, CaseEntry, CaseHandoff
from seamline.cases.service import get_case, open_case, receive_message, update_handoff
from seamline.cases.thread import EntryInput
from seamline.cases.workflow import escalate
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.privacy.service import complete_access, erase_profile, open_request
from tests.privacy.people import raw_mentions, world

CONFIG = CasesConfig()
CASE_TABLES = {t.__tablename__ for t in (Case, CaseEntry, CaseHandoff)}
# Personal text an agent or the customer typed; erasure cannot know it from identifiers, so it takes all case text.
TYPED = ("lisbon hotel", "mother's maiden name")


@pytest.fixture
def people(client: TestClient, engine: Engine, settings: Settings) -> dict[str, Any]:
    found = world(client, engine, settings)
    with unit_of_work(engine) as session:
        ada = open_case(
            session, CONFIG, profile_id=found["ada"], subject="Ada Lovelace: card blocked at the Lisbon hotel",
            channel="phone", actor="maria", surface="console",
            first_entry=EntryInput("phone", "internal", "Caller gave 415 555 0132", "agent", "maria"),
        )  # fmt: skip
        receive_message(
            session, CONFIG, profile_id=found["ada"], channel="email", body="This is ada.lovelace, still blocked",
            author_name="Ada Lovelace", identifier="email:ada.lovelace@example.com", actor="mail", surface="api",
        )  # fmt: skip
        update_handoff(
            session, ada.id, verified="Mother's maiden name", customer_said="Lovelace family card", tried="reset",
            actor="maria", surface="console",
        )  # fmt: skip
        escalate(session, CONFIG, ada.id, reason="Lovelace asked for a supervisor", actor="maria", surface="console")
        grace = open_case(
            session, CONFIG, profile_id=found["grace"], subject="Grace: address change", channel="chat",
            actor="li", surface="console",
        )  # fmt: skip
    return {**found, "ada_case": ada.id, "grace_case": grace.id}


def test_the_access_export_holds_the_persons_cases_with_thread_and_handoff_versions(
    engine: Engine, people: dict[str, Any]
) -> None:
    with unit_of_work(engine) as session:
        request = open_request(session, "access", people["ada"], requested_by="dpo")
        export = complete_access(session, request.id)
    assert [c["id"] for c in export["cases"]] == [people["ada_case"]]
    case = export["cases"][0]
    assert case["subject"] == "Ada Lovelace: card blocked at the Lisbon hotel"
    assert [e["body"] for e in case["entries"] if e["kind"] != "event"] == [
        "Caller gave 415 555 0132",
        "This is ada.lovelace, still blocked",
    ]
    assert case["handoff"]["customer_said"] == "Lovelace family card"
    assert [h["version"] for h in case["handoff_versions"]] == [1]
    assert "sla" not in case


def test_erasure_leaves_no_personal_text_in_any_case_table_and_spares_others(
    engine: Engine, people: dict[str, Any]
) -> None:
    assert {table for table, _ in raw_mentions(engine)} >= CASE_TABLES
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", people["ada"], requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert result["cases_erased"] == 1
    assert raw_mentions(engine) == []
    assert raw_mentions(engine, TYPED) == []
    with unit_of_work(engine, write=False) as session:
        erased = get_case(session, CONFIG, people["ada_case"])
        grace = get_case(session, CONFIG, people["grace_case"])
    # the case's shape stays for service reporting: status, queue, times, agents
    assert (erased.status, erased.queue, erased.opened_by, erased.subject) == (
        "escalated",
        "supervisors",
        "maria",
        "[erased]",
    )
    assert grace.subject == "Grace: address change"
