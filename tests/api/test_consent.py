"""The consent API: the paperless story across three products, the one policy with its reasons, and guards."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _headers(engine: Engine, name: str, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, name, list(scopes))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def ada(client: TestClient, engine: Engine, settings: Settings) -> int:
    _, bank = make_source(engine, "core-banking", "core-system")
    send(
        client,
        bank,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com"}},
        {"type": "track", "userId": "u-ada", "event": "Account Opened", "properties": {"account_id": "CHK-1"}},
        {"type": "track", "userId": "u-ada", "event": "Card Activated", "properties": {"card_id": "CC-9"}},
        {"type": "track", "userId": "u-ada", "event": "Mortgage Funded", "properties": {"loan_id": "MTG-3"}},
    )
    drain(engine, settings)
    return profile_holding(engine, "user_id:u-ada")


def test_paperless_chosen_in_the_card_app_reaches_every_product_but_a_scoped_exception(
    client: TestClient, engine: Engine, ada: int
) -> None:
    writer = _headers(engine, "cards-app", "profiles:write", "profiles:read")
    paperless = {
        "kind": "delivery",
        "document_type": "statements",
        "value": "electronic",
        "evidence": {"text_shown": "Go paperless for all your statements"},
    }
    assert client.post(f"/v1/profiles/{ada}/consent", json=paperless, headers=writer).status_code == 201
    keep_paper = {"kind": "delivery", "document_type": "statements", "value": "paper", "product": "MTG-3"}
    assert client.post(f"/v1/profiles/{ada}/consent", json=keep_paper, headers=writer).status_code == 201

    def delivery(product: str) -> str:
        response = client.get(
            f"/v1/profiles/{ada}/delivery-preference",
            params={"document_type": "statements", "product": product},
            headers=writer,
        )
        assert response.status_code == 200, response.text
        return str(response.json()["value"])

    assert delivery("CHK-1") == "electronic"
    assert delivery("CC-9") == "electronic"
    assert delivery("MTG-3") == "paper"
    assert delivery("SAV-7") == "electronic"  # a product opened later inherits the customer-wide choice
    ledger = client.get(f"/v1/profiles/{ada}/consent", headers=writer).json()
    assert [(c["value"], c["product"], c["actor"]) for c in ledger] == [
        ("paper", "MTG-3", "cards-app"),
        ("electronic", None, "cards-app"),
    ]


def test_may_contact_answers_with_reasons_and_service_messages_pass_marketing_opt_outs(
    client: TestClient, engine: Engine, ada: int
) -> None:
    headers = _headers(engine, "decisions", "profiles:write", "profiles:read")

    def ask(purpose: str, channel: str) -> dict[str, object]:
        response = client.get(
            f"/v1/profiles/{ada}/may-contact", params={"purpose": purpose, "channel": channel}, headers=headers
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    first = ask("marketing", "email")
    assert first["allowed"] is False
    assert any("default" in r for r in first["reasons"])  # type: ignore[union-attr]  # JSON: reasons is a list
    client.post(
        f"/v1/profiles/{ada}/consent",
        json={"purpose": "marketing", "channel": "email", "value": "granted"},
        headers=headers,
    )
    assert ask("marketing", "email")["allowed"] is True
    client.post(f"/v1/profiles/{ada}/consent", json={"purpose": "marketing", "value": "denied"}, headers=headers)
    assert ask("marketing", "email")["allowed"] is False
    assert ask("service", "email")["allowed"] is True
    unreachable = ask("service", "sms")  # no phone on file
    assert unreachable["allowed"] is False
    assert any("no phone on file" in r for r in unreachable["reasons"])  # type: ignore[union-attr]  # JSON: reasons is a list


def test_bad_choices_are_refused_by_field_and_writing_needs_the_write_scope(
    client: TestClient, engine: Engine, ada: int
) -> None:
    reader = _headers(engine, "reader", "profiles:read")
    choice = {"purpose": "marketing", "channel": "email", "value": "granted"}
    assert client.post(f"/v1/profiles/{ada}/consent", json=choice, headers=reader).status_code == 403
    writer = _headers(engine, "writer", "profiles:write")
    bad = client.post(f"/v1/profiles/{ada}/consent", json={**choice, "purpose": "marketting"}, headers=writer)
    assert bad.status_code == 400
    assert [e["field"] for e in bad.json()["error"]["errors"]] == ["purpose"]
    assert client.get(f"/v1/profiles/{ada}/consent", headers=reader).json() == []
