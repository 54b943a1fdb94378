"""Customers for console tests, sent through the tracking API and resolved by the worker."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def ada_and_grace(client: TestClient, engine: Engine, settings: Settings) -> tuple[int, int]:
    """Ada (CRM record, a web login, an account) and Grace (wrongly merged into Ada by a shared crm id? no: apart)."""
    _crm, crm_key = make_source(engine, "crm", "crm")
    _web, web_key = make_source(engine, "web", "web")
    send(
        client,
        crm_key,
        {
            "type": "identify",
            "anonymousId": "crm:1",
            "traits": {"crm_id": "C-1", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
        },
        {
            "type": "group",
            "anonymousId": "crm:1",
            "groupId": "ACC-778899",
            "traits": {"crm_id": "C-1", "holding_type": "checking_account", "status": "open"},
        },
    )
    send(
        client,
        web_key,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com"}},
        {"type": "track", "userId": "u-ada", "event": "Statement Viewed", "context": {"channel": "web"}},
        {"type": "identify", "userId": "u-grace", "traits": {"name": "Grace Hopper", "email": "grace@example.com"}},
    )
    drain(engine, settings)
    return profile_holding(engine, "crm_id:C-1"), profile_holding(engine, "user_id:u-grace")


def wrong_merge(client: TestClient, engine: Engine, settings: Settings) -> tuple[int, int]:
    """Ada (a login) and Bob (an anonymous phone), stitched by a bad event naming Ada's user id with Bob's device.

    Returns (Ada's profile, which survives, and Bob's, which was merged into it)."""
    _web, web_key = make_source(engine, "web", "web")
    send(
        client,
        web_key,
        {"type": "identify", "anonymousId": "ada-laptop", "userId": "u-ada", "traits": {"name": "Augusta King"}},
        {"type": "identify", "anonymousId": "bob-phone", "traits": {"name": "Bob Builder", "city": "Leeds"}},
    )
    drain(engine, settings)
    ada, bob = profile_holding(engine, "user_id:u-ada"), profile_holding(engine, "anonymous_id:bob-phone")
    send(client, web_key, {"type": "track", "anonymousId": "bob-phone", "userId": "u-ada", "event": "Signed In"})
    drain(engine, settings)
    return ada, bob
