"""The audit log against a real database: entries in the caller's transaction or by group commit, and filters."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine

from seamline.audit.service import AuditEntryView, AuditWriter, entries, record, record_async, record_many_async
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.core.principal import Principal

CRM = Principal(name="crm-sync", kind="api_key", scopes=frozenset({"profiles:read"}), surface="api")
APP = Principal(name="mobile-backend", kind="api_key", scopes=frozenset({"profiles:write"}), surface="api")


def read_log(
    engine: Engine,
    *,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AuditEntryView]:
    with unit_of_work(engine, write=False) as session:
        return entries(
            session, subject_type=subject_type, subject_id=subject_id, actor=actor, limit=limit, before_id=before_id
        )


def seed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        record(session, CRM, "read", "profile", 1)
        record(session, CRM, "read", "profile", 2, {"fields": ["email"]})
        record(session, APP, "change", "profile", 1, {"trait": "email"})
        record(session, APP, "read", "case", "1")


def test_record_writes_who_did_what_to_which_subject(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        record(session, CRM, "read", "profile", 123, {"fields": ["email", "phone"]})
    [entry] = read_log(engine)
    assert (entry.actor, entry.actor_kind, entry.surface) == ("crm-sync", "api_key", "api")
    assert (entry.action, entry.subject_type, entry.subject_id) == ("read", "profile", "123")
    assert entry.detail == {"fields": ["email", "phone"]}
    assert entry.at.tzinfo is not None


def test_an_entry_rolls_back_with_the_change_it_records(engine: Engine) -> None:
    def change_that_fails() -> None:
        with unit_of_work(engine) as session:
            record(session, APP, "change", "profile", 1)
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert read_log(engine) == []


def test_entries_come_newest_first_and_filter_by_subject_and_actor(engine: Engine) -> None:
    seed(engine)
    everything = read_log(engine)
    assert [(e.actor, e.subject_type, e.subject_id) for e in everything] == [
        ("mobile-backend", "case", "1"),
        ("mobile-backend", "profile", "1"),
        ("crm-sync", "profile", "2"),
        ("crm-sync", "profile", "1"),
    ]
    assert [e.action for e in read_log(engine, subject_type="profile", subject_id=1)] == ["change", "read"]
    assert len(read_log(engine, subject_type="profile")) == 3
    assert [e.subject_id for e in read_log(engine, actor="crm-sync")] == ["2", "1"]
    assert [e.subject_id for e in read_log(engine, actor="crm-sync", subject_type="profile", subject_id="2")] == ["2"]
    assert read_log(engine, actor="nobody") == []


def test_entries_page_with_limit_and_before_id(engine: Engine) -> None:
    seed(engine)
    first = read_log(engine, limit=3)
    rest = read_log(engine, limit=3, before_id=first[-1].id)
    assert [e.id for e in first + rest] == [e.id for e in read_log(engine)]
    assert len(rest) == 1


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"subject_id": "1"}, "subject_id")],
)
def test_a_bad_query_is_invalid_input(engine: Engine, filters: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_log(engine, **filters)
    assert [e.field for e in caught.value.errors] == [field]


@pytest.mark.parametrize(
    ("action", "subject_type", "subject_id", "detail", "problem"),
    [
        ("delete", "profile", 1, None, "action"),
        ("read", "", 1, None, "subject_type"),
        ("read", "profile", "", None, "subject_id"),
        ("read", "profile", 1, {"score": float("nan")}, "not JSON"),
        ("read", "profile", 1, {"when": object()}, "not JSON"),
    ],
)
def test_a_malformed_entry_is_a_programming_error_and_writes_nothing(
    engine: Engine,
    action: str,
    subject_type: str,
    subject_id: str | int,
    detail: dict[str, object] | None,
    problem: str,
) -> None:
    with pytest.raises(ValueError, match=problem), unit_of_work(engine) as session:
        record(session, CRM, action, subject_type, subject_id, detail)
    assert read_log(engine) == []


def test_record_async_commits_every_entry_before_returning(engine: Engine) -> None:
    writer = AuditWriter(engine)
    writer.start()

    async def many_reads() -> None:
        await asyncio.gather(*(record_async(writer, CRM, "read", "profile", i, {"n": i}) for i in range(50)))

    try:
        asyncio.run(many_reads())
        log = read_log(engine, limit=100)
        assert sorted(int(e.subject_id) for e in log) == list(range(50))
        assert all(e.detail == {"n": int(e.subject_id)} for e in log)
        assert writer.commits < 50
    finally:
        writer.stop()


def test_record_async_refuses_a_bad_entry_before_it_can_spoil_a_group(engine: Engine) -> None:
    writer = AuditWriter(engine)
    writer.start()

    async def one_bad_among_good() -> list[BaseException | None]:
        results = await asyncio.gather(
            record_async(writer, CRM, "read", "profile", 1),
            record_async(writer, CRM, "read", "profile", 2, {"bad": float("inf")}),
            record_async(writer, CRM, "read", "profile", 3),
            return_exceptions=True,
        )
        return list(results)

    try:
        first, second, third = asyncio.run(one_bad_among_good())
    finally:
        writer.stop()
    assert first is None
    assert third is None
    assert isinstance(second, ValueError)
    assert sorted(e.subject_id for e in read_log(engine)) == ["1", "3"]


def test_record_many_async_commits_a_page_of_entries_in_one_transaction(engine: Engine) -> None:
    writer = AuditWriter(engine)
    writer.start()
    try:
        asyncio.run(record_many_async(writer, CRM, "read", "profile", [(i, {"page": 1}) for i in range(50)]))
        assert writer.commits == 1
        with pytest.raises(ValueError, match="not JSON"):  # a bad entry refuses the whole batch before it is queued
            asyncio.run(record_many_async(writer, CRM, "read", "profile", [(1, None), (2, {"bad": float("nan")})]))
    finally:
        writer.stop()
    log = read_log(engine, limit=100)
    assert sorted(int(e.subject_id) for e in log) == list(range(50))
    assert all(e.detail == {"page": 1} for e in log)
