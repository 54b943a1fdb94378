"""Every id that comes in from outside — a path, a query parameter, a hand-read filter, a page token — is refused as
input when no row could have it, on every route: never a 500 (SQLite's OverflowError, PostgreSQL's out-of-range).

The routes are walked, not listed, as the authorization matrix walks them: a route added with a plain `int` id
fails here. Ids a page reads by hand (filters that may be empty) are listed in HAND_READ.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import orjson
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import SCOPES, create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.ids import MAX_ID, MIN_ID
from tests.console.conftest import log_in
from tests.support.builders import make_user

TOO_BIG = (str(MAX_ID + 1), "99999999999999999999", str(MIN_ID - 1))
# Console filters read by hand (an empty one means "any"), and the timeline's page token, which carries an id.
HAND_READ = (("/console/cases", "profile"), ("/console/cases", "before"), ("/console/matches", "after"))


def _int_params(settings: Settings) -> Iterator[tuple[str, str, str, str]]:
    """(method, path, where, name) of every integer path or query parameter of the app."""
    for context in iter_route_contexts(create_app(settings).routes):
        dependant = getattr(context.original_route, "dependant", None)
        if dependant is None:
            continue
        methods = sorted(m for m in getattr(context.original_route, "methods", ()) if m not in ("HEAD", "OPTIONS"))
        for param in get_flat_params(dependant):
            where = type(param.field_info).__name__.lower()  # Path or Query
            if where in ("path", "query") and re.search(r"\bint\b", str(param.field_info.annotation)):
                for method in methods:
                    yield method, str(context.path), where, param.name


def _url(path: str, value: str, name: str | None = None) -> str:
    """The path with `name` (every id, when None) set to `value` and any other id set to 1."""
    return re.sub(r"\{(\w+)\}", lambda m: value if name in (None, m.group(1)) else "1", path)


def _clients(settings: Settings, engine: Engine) -> tuple[TestClient, dict[str, str]]:
    """The app, the headers of a key with every scope, and a supervisor `sam` to sign in as."""
    client = TestClient(create_app(settings), base_url="http://localhost", raise_server_exceptions=False)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "everything", list(SCOPES))
    make_user(engine, "sam", "supervisor")
    make_user(engine, "root", "admin")  # the outbox's dead letters are an admin's
    return client, {"Authorization": f"Bearer {key}"}


def test_the_walk_finds_the_id_parameters(settings: Settings) -> None:
    found = {(path, where, name) for _m, path, where, name in _int_params(settings)}
    assert ("/v1/profiles/{profile_id}", "path", "profile_id") in found
    assert ("/v1/cases", "query", "before") in found
    assert ("/console/cases/{case_id}", "path", "case_id") in found
    assert ("/v1/matching/reviews", "query", "after") in found


def test_an_id_no_row_can_have_is_refused_as_input_on_every_route(settings: Settings, engine: Engine) -> None:
    client, key = _clients(settings, engine)
    with client:
        signed_in, token = "sam", log_in(client, "sam")
        params = list(_int_params(settings))
        for method, path, where, name in params:
            who = "root" if path.startswith("/console/outbox") else "sam"
            if path.startswith("/console") and who != signed_in:
                signed_in, token = who, log_in(client, who)
            for value in TOO_BIG:
                url = _url(path, value, name) if where == "path" else f"{_url(path, '1')}?{name}={value}"
                if path.startswith("/console"):
                    data = {"csrf_token": token} if method == "POST" else None
                    response = client.request(method, url, data=data, follow_redirects=False)
                    # A console address naming nothing is a 404 page; a bad filter a 400 page.
                    assert response.status_code == (404 if where == "path" else 400), (method, url)
                    assert "text/html" in response.headers["content-type"], (method, url)
                    continue
                response = client.request(method, url, headers=key, json={} if method in ("POST", "PUT") else None)
                assert response.status_code == 400, (method, url, response.status_code)
                fields = [e["field"] for e in response.json()["error"]["errors"]]
                assert name in fields, (method, url, fields)


def test_the_largest_id_is_a_plain_miss(settings: Settings, engine: Engine) -> None:
    client, key = _clients(settings, engine)
    with client:
        log_in(client, "sam")
        for method, path, where, name in _int_params(settings):
            if method != "GET" or where != "path":
                continue
            headers = {} if path.startswith("/console") else key
            response = client.get(_url(path, str(MAX_ID), name), headers=headers)
            if response.status_code == 400:  # another parameter is missing (may-contact's purpose): not the id
                assert name not in [e["field"] for e in response.json()["error"]["errors"]], path
            else:
                assert response.status_code == 404, (path, response.status_code)


def test_hand_read_ids_and_page_tokens_are_refused_as_input(settings: Settings, engine: Engine) -> None:
    client, key = _clients(settings, engine)
    forged = base64.urlsafe_b64encode(orjson.dumps(["2026-11-22T09:30:00+00:00", 2**64 - 1])).decode()
    with client:
        log_in(client, "sam")
        for path, name in HAND_READ:
            for value in TOO_BIG:
                response = client.get(f"{path}?{name}={value}")
                assert response.status_code == 400, (path, name, value)
                assert f"{name} must be a whole number" in response.text
        page = client.get(f"/console/customers/1?cursor={forged}")
        assert page.status_code == 400
        assert "this page link is damaged" in page.text
        answer = client.get(f"/v1/profiles/1/timeline?cursor={forged}", headers=key)
        assert answer.status_code == 400
        assert answer.json()["error"]["errors"][0]["field"] == "cursor"


def test_ids_in_request_bodies_are_refused_as_input(settings: Settings, engine: Engine) -> None:
    client, key = _clients(settings, engine)
    with client:
        for path, body in (
            ("/v1/cases", {"profile_id": MAX_ID + 1, "subject": "Card declined", "channel": "phone"}),
            ("/v1/privacy/requests", {"profile_id": MAX_ID + 1, "kind": "access"}),
        ):
            response = client.post(path, headers=key, json=body)
            assert response.status_code == 400, (path, response.status_code)
            assert [e["field"] for e in response.json()["error"]["errors"]] == ["profile_id"]
