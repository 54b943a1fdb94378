"""Flows tests share: send messages through the tracking API, run the worker, read the graph back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.identity.identifiers import Identifier
from seamline.worker.runner import Worker


def send(client: TestClient, key: str, *messages: dict[str, Any]) -> None:
    """POST messages as one batch; fails the test unless accepted."""
    response = client.post("/v1/batch", json={"batch": list(messages)}, auth=(key, ""))
    assert response.status_code == 200, response.text


def drain(engine: Engine, settings: Settings) -> int:
    """Run the worker until the inbox is empty."""
    return Worker(engine, settings).drain()


def active_profiles(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM profiles WHERE merged_into_id IS NULL ORDER BY id"))]


def identifiers_by_profile(engine: Engine) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    with engine.connect() as conn:
        for pid, type_, value in conn.execute(text("SELECT profile_id, type, value FROM identifiers")):
            out.setdefault(pid, set()).add(f"{type_}:{value}")
    return out


def profile_holding(engine: Engine, identifier: str) -> int:
    type_, value = Identifier.parse(identifier)  # 'ext:<system>:value' is type 'ext:<system>'

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT profile_id FROM identifiers WHERE type = :t AND value = :v ORDER BY last_seen_at DESC"),
            {"t": type_, "v": value},
        ).all()
    assert rows, f"nobody holds {identifier}"
    return int(rows[0][0])


def conflicts(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT identifier_type, identifier_value, reason FROM identity_conflicts ORDER BY id")
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def snapshot(engine: Engine, profile_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Everything derived about these profiles, for exact before/after comparisons."""
    out: dict[int, dict[str, Any]] = {}
    with engine.connect() as conn:
        for pid in profile_ids:
            params = {"p": pid}
            out[pid] = {
                "active": conn.execute(text("SELECT merged_into_id FROM profiles WHERE id = :p"), params).scalar()
                is None,
                "identifiers": sorted(
                    tuple(r)
                    for r in conn.execute(
                        text("SELECT type, value, source_id, first_event_id FROM identifiers WHERE profile_id = :p"),
                        params,
                    )
                ),
                "traits": sorted(
                    tuple(r)
                    for r in conn.execute(
                        text(
                            "SELECT name, value_json, source_id, first_event_id, last_event_id, times_seen "
                            "FROM profile_traits WHERE profile_id = :p"
                        ),
                        params,
                    )
                ),
                "holdings": sorted(
                    tuple(r)
                    for r in conn.execute(
                        text(
                            "SELECT source_id, type, external_id, status, first_event_id, last_event_id "
                            "FROM holdings WHERE profile_id = :p"
                        ),
                        params,
                    )
                ),
                "events": sorted(
                    r[0]
                    for r in conn.execute(text("SELECT event_id FROM profile_events WHERE profile_id = :p"), params)
                ),
            }
    return out
