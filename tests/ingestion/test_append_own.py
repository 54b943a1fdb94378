"""Seamline's own announcements appended in bulk are stored exactly as the tracking API would store them."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import Engine, text

from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.ingestion.service import append_messages, append_own
from seamline.ingestion.wire import Limits
from tests.support.builders import make_source

AT = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)


def _message(n: int, person: dict[str, str]) -> dict[str, object]:
    props = {"journey": "apply_for_mortgage", "instance_id": f"ji_{n}", "step": "income"}
    return {"type": "track", "event": "Journey Stalled", "messageId": f"m-{n}", **person, "properties": props}


def test_own_messages_are_stored_as_the_api_stores_them(engine: Engine) -> None:
    checked, _ = make_source(engine, "checked", "server")
    own, _ = make_source(engine, "own", "server")
    people = [{"userId": "u-1"}, {"anonymousId": "anon-2"}, {"userId": "u-3", "anonymousId": "anon-3"}]
    with unit_of_work(engine) as session:
        messages = [_message(n, p) for n, p in enumerate(people)]
        assert append_messages(session.connection(), checked.id, AT, messages, Limits()) == 3
        assert append_own(session.connection(), own.id, AT, messages, Limits()) == 3
    query = text(
        "SELECT message_id, type, user_id, anonymous_id, partition, payload FROM inbox_events"
        " WHERE source_id = :s ORDER BY message_id"
    )
    with engine.connect() as conn:
        api = [(*r[:5], orjson.loads(r[5])) for r in conn.execute(query, {"s": checked.id})]
        ours = [(*r[:5], orjson.loads(r[5])) for r in conn.execute(query, {"s": own.id})]
    assert ours == api


def test_a_shape_the_api_would_refuse_is_refused_whole(engine: Engine) -> None:
    own, _ = make_source(engine, "own", "server")
    bad = {"type": "track", "messageId": "m-x", "userId": "u-1"}  # a track without its event name
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
        append_own(session.connection(), own.id, AT, [bad], Limits())
    assert refused.value.errors[0].field == "event"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbox_events")).scalar() == 0
