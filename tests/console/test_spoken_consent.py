"""A preference an agent records from what the customer said on the line is consent: it carries that legal basis,
with the words as evidence, like a choice the person states on a banner."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.consent.service import history
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn
from tests.console.people import ada_and_grace


def test_spoken_consent_carries_its_legal_basis(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    said = "Customer said: yes, emails about new cards are fine"
    for value in ("granted", "denied"):
        recorded = console.post(
            f"/console/customers/{ada}/preferences",
            data={"csrf_token": token, "purpose": "marketing", "channel": "email", "value": value, "evidence": said},
        )
        assert recorded.status_code == 200, recorded.text[:500]
    with unit_of_work(engine, write=False) as session:
        spoken = [c for c in history(session, ada) if c.surface == "console"]
    assert [(c.value, c.legal_basis, c.actor) for c in spoken] == [
        ("denied", "consent", "console:agent"),
        ("granted", "consent", "console:agent"),
    ]
    assert all(c.evidence["spoken_consent"] == said and c.evidence["agent"] == "agent" for c in spoken)
