"""The person whose data the privacy tests export and erase, sent through the real tracking API and worker."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from seamline.config import Settings
from seamline.core.db import Base
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

# Every spelling of Ada's personal data that must be gone after erasure (searched case-insensitively).
ADA_NEEDLES = ("ada.lovelace", "4155550132", "415 555 0132", "lovelace", "203.0.113.7")

ADA_MESSAGES: tuple[dict[str, Any], ...] = (
    {"type": "page", "anonymousId": "anon-ada-1", "name": "Cards", "timestamp": "2026-03-01T10:00:00Z"},
    {
        "type": "identify",
        "anonymousId": "anon-ada-1",
        "userId": "u-lovelace",
        "traits": {"email": "ada.lovelace@example.com", "phone": "+1 415 555 0132", "name": "Ada Lovelace"},
        "context": {"ip": "203.0.113.7", "page": {"url": "https://bank.example/ada.lovelace"}},
        "timestamp": "2026-03-01T10:01:00Z",
    },
    {
        "type": "track",
        "userId": "u-lovelace",
        "event": "Account Opened",
        "properties": {"account_id": "CC-9", "account_type": "credit_card", "holder": "Ada Lovelace"},
        "timestamp": "2026-03-02T09:00:00Z",
    },
    {
        "type": "track",
        "userId": "u-lovelace",
        "event": "Consent Updated",
        "properties": {"purpose": "marketing", "channel": "email", "value": "denied"},
        "context": {"ip": "203.0.113.7"},
        "timestamp": "2026-03-02T09:05:00Z",
    },
    # A value resolution refuses is kept as evidence in identity_conflicts, raw: it must go too.
    {
        "type": "track",
        "userId": "u-lovelace",
        "event": "Newsletter",
        "properties": {"email": "lovelace-at-example"},
        "timestamp": "2026-03-03T09:00:00Z",
    },
)


def world(client: TestClient, engine: Engine, settings: Settings) -> dict[str, Any]:
    """Ada (to be exported or erased) and Grace (who must stay untouched); returns their profile ids and keys."""
    _, web = make_source(engine, "web", "web")
    _, crm = make_source(engine, "crm", "crm")
    send(client, web, *ADA_MESSAGES)
    send(client, crm, {"type": "identify", "userId": "u-lovelace", "traits": {"name": "Ada King"}})
    send(client, web, {"type": "identify", "userId": "u-grace", "traits": {"email": "grace@example.com"}})
    drain(engine, settings)
    return {
        "web": web,
        "ada": profile_holding(engine, "user_id:u-lovelace"),
        "grace": profile_holding(engine, "user_id:u-grace"),
    }


def raw_mentions(engine: Engine, needles: tuple[str, ...] = ADA_NEEDLES) -> list[tuple[str, str]]:
    """(table, row) of every row of every table whose text holds a needle, case-insensitively."""
    found: list[tuple[str, str]] = []
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = str(tuple(row)).lower()
                if any(n in text for n in needles):
                    found.append((table.name, text))
    return found
