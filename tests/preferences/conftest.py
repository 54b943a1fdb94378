"""A customer with three products, as the core banking system reports them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


@pytest.fixture
def ada(client: TestClient, engine: Engine, settings: Settings) -> int:
    _, bank = make_source(engine, "core-banking", "core-system")
    send(
        client,
        bank,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com", "first_name": "Ada"}},
        {"type": "track", "userId": "u-ada", "event": "Account Opened", "properties": {"account_id": "CHK-1"}},
        {"type": "track", "userId": "u-ada", "event": "Card Activated", "properties": {"card_id": "CC-9"}},
        {"type": "track", "userId": "u-ada", "event": "Mortgage Funded", "properties": {"loan_id": "MTG-3"}},
    )
    drain(engine, settings)
    return profile_holding(engine, "user_id:u-ada")
