"""A customer with a national id, a right-to-left name and a known event time, for the customer page's tests."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

NATIONAL_ID = "912-34-5678"
RTL_NAME = "ליאור כהן"  # Hebrew: a name that turns the text around it if it is not isolated


def noor(client: TestClient, engine: Engine, settings: Settings) -> int:
    """One profile: a CRM record with a national id and a Hebrew name, a product, and web visits at known times."""
    _crm, crm_key = make_source(engine, "crm", "crm")
    _web, web_key = make_source(engine, "web", "web")
    send(
        client,
        crm_key,
        {
            "type": "identify",
            "userId": "u-noor",
            "traits": {"name": RTL_NAME, "email": "noor@example.com", "national_id": NATIONAL_ID},
        },
        {"type": "group", "userId": "u-noor", "groupId": "CARD-4242", "traits": {"holding_type": "credit_card"}},
    )
    send(
        client,
        web_key,
        {
            "type": "page",
            "userId": "u-noor",
            "name": "Pricing",
            "timestamp": "2026-01-15T10:00:00Z",
            "context": {"channel": "web"},
        },
        {
            "type": "track",
            "userId": "u-noor",
            "event": "Order Completed",
            "properties": {"total": 42.5, "currency": "EUR"},
            "timestamp": "2026-01-15T10:05:00Z",
            "context": {"channel": "web"},
        },
    )
    drain(engine, settings)
    return profile_holding(engine, "user_id:u-noor")
