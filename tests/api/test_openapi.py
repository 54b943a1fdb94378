"""The OpenAPI document tells the truth: every status a route really answers is documented for it, with the error
body's schema, and every operation names its security scheme."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.test_authorization import MATRIX, SERVER_KEY, WRITE_KEY, _url

IDS = {"profile_id": "987654", "merge_id": "987654", "request_id": "987654", "case_id": "987654", "review_id": "9"}


def _documented(schema: dict[str, Any], method: str, path: str) -> set[int]:
    return {int(code) for code in schema["paths"][path][method.lower()]["responses"] if code.isdigit()}


def test_security_schemes_are_declared_and_every_operation_names_its_own(settings: Settings) -> None:
    schema = create_app(settings).openapi()
    assert schema["openapi"].startswith("3.1")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["writeKey"] == {**schemes["writeKey"], "type": "http", "scheme": "basic"}
    assert schemes["serverKey"]["scheme"] == "bearer"
    assert schemes["consoleSession"]["in"] == "cookie"
    for (method, path), who in MATRIX.items():
        if path not in schema["paths"] or method.lower() not in schema["paths"][path]:
            continue
        security = schema["paths"][path][method.lower()]["security"]
        if who == SERVER_KEY:
            assert security == [{"serverKey": []}], (method, path)
        if who == WRITE_KEY:
            assert security == [{"writeKey": []}], (method, path)
    assert "Rules no schema can say" in schema["info"]["description"]


def test_every_status_a_route_answers_is_documented(settings: Settings, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        _view, scoped = create_api_key(session, "docs-check", ["audit:read"])  # a key with none of the routes' scopes
        _view, everything = create_api_key(
            session,
            "docs-all",
            [
                "profiles:read",
                "profiles:write",
                "identity:admin",
                "cases:read",
                "cases:write",
                "matching:read",
                "matching:write",
            ],
        )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        schema = client.get("/openapi.json").json()
        seen = 0
        for (method, path), who in MATRIX.items():
            if who not in (SERVER_KEY, WRITE_KEY) or method == "OPTIONS":
                continue
            documented = _documented(schema, method, path)
            url = _url(path, IDS)
            body = {} if method in ("POST", "PUT") else None
            answers = {client.request(method, url, json=body).status_code}
            if who == SERVER_KEY:
                for key in (scoped, everything):
                    headers = {"Authorization": f"Bearer {key}"}
                    answers.add(client.request(method, url, json=body, headers=headers).status_code)
            for status in answers - {200, 201}:
                assert status in documented, (method, path, status, sorted(documented))
                seen += 1
            error = schema["paths"][path][method.lower()]["responses"].get("401", {})
            assert error, (method, path)
        assert seen > 100
