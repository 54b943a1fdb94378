"""How an event names a profile (`person_keys`): its smallest user id, else its smallest anonymous id; read in one
query for any number of profiles, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert

from seamline.core.db import table_of, unit_of_work
from seamline.identity.models import IdentifierLink, Profile
from seamline.identity.service import person_keys

AT = datetime(2026, 12, 6, tzinfo=UTC)


def _store(engine: Engine, links: dict[int, list[tuple[str, str]]]) -> None:
    profiles = [{"id": p, "created_at": AT, "updated_at": AT, "merge_count": 0} for p in links]
    rows = [
        {"profile_id": p, "type": kind, "value": value, "first_seen_at": AT, "last_seen_at": AT}
        for p, held in links.items()
        for kind, value in held
    ]
    with engine.begin() as conn:
        conn.execute(insert(table_of(Profile)), profiles)
        conn.execute(insert(table_of(IdentifierLink)), rows)


def test_a_user_id_before_an_anonymous_id_and_the_smallest_of_a_kind(engine: Engine) -> None:
    _store(
        engine,
        {
            1: [("anonymous_id", "a-1"), ("user_id", "u-b"), ("email", "x@example.com"), ("user_id", "u-a")],
            2: [("anonymous_id", "a-z"), ("anonymous_id", "a-y")],
            3: [("email", "only@example.com")],
            4: [("user_id", "u-4"), ("anonymous_id", "a-0")],
        },
    )
    with unit_of_work(engine, write=False) as session:
        assert person_keys(session, [1, 2, 3, 4, 5]) == {
            1: ("user_id", "u-a"),
            2: ("anonymous_id", "a-y"),
            4: ("user_id", "u-4"),
        }
        assert person_keys(session, []) == {}


def test_thousands_of_profiles_in_one_call(engine: Engine) -> None:
    count = 2_500  # more than SQLite's IN lists hold, and than one chunk of them
    _store(engine, {p: [("user_id", f"u-{p}"), ("email", f"p{p}@example.com")] for p in range(1, count + 1)})
    with unit_of_work(engine, write=False) as session:
        named = person_keys(session, [*range(count, 0, -1), 1, 2])  # any order, repeats
    assert named == {p: ("user_id", f"u-{p}") for p in range(1, count + 1)}
