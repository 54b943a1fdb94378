"""Console fixtures: the app on http://localhost (loopback: the session cookie is not Secure) and signed-in users."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.support.builders import CONSOLE_PASSWORD, make_user

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = CONSOLE_PASSWORD) -> str:
    """Sign in through the login form; returns the CSRF token of the signed-in session."""
    client.cookies.clear()  # a fresh browser: whoever was signed in before is gone
    form = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text), "next": "/console"},
    )
    assert response.status_code == 200, response.text[:500]
    return csrf_of(response.text)


@pytest.fixture
def console(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


SignIn = Callable[[str], str]


@pytest.fixture
def sign_in(console: TestClient, engine: Engine) -> SignIn:
    """Create a user of the role (named after it) and sign in as them; returns the session's CSRF token."""

    def sign_in_as(role: str) -> str:
        make_user(engine, role, role, name=f"{role.title()} User")
        return log_in(console, role)

    return sign_in_as
