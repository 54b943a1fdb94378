"""Console pages through the app: login, CSRF, roles, find, the customer page, changes, escaping."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.console.conftest import SignIn, csrf_of, log_in
from tests.console.people import ada_and_grace, wrong_merge
from tests.support.builders import make_source, make_user
from tests.support.flows import drain, profile_holding, send


def test_login_flow_cookie_and_logout(console: TestClient, engine: Engine) -> None:
    first = console.get("/console/customers/1", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/console/login?next=/console/customers/1"
    make_user(engine, "ada", "agent")
    form = console.get("/console/login")
    wrong = console.post(
        "/console/login", data={"username": "ada", "password": "nope nope nope", "csrf_token": csrf_of(form.text)}
    )
    assert wrong.status_code == 401
    unknown = console.post(
        "/console/login", data={"username": "nobody", "password": "nope nope nope", "csrf_token": csrf_of(wrong.text)}
    )
    assert unknown.status_code == 401
    assert "The user name or password is not right" in wrong.text
    assert wrong.text.count("not right") == unknown.text.count("not right")  # never says which
    ok = console.post(
        "/console/login",
        data={
            "username": "ada",
            "password": "correct horse battery staple",
            "csrf_token": csrf_of(unknown.text),
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert ok.headers["location"] == "/console"  # never off-site
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("seamline_console="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http to localhost
    home = console.get("/console")
    assert home.status_code == 200
    out = console.post("/console/logout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert console.get("/console", follow_redirects=False).status_code == 303


def test_the_cookie_is_secure_on_any_other_host(settings: Settings, engine: Engine) -> None:
    make_user(engine, "ada", "agent")
    with TestClient(create_app(settings), base_url="https://console.example") as client:
        form = client.get("/console/login")
        ok = client.post(
            "/console/login",
            data={"username": "ada", "password": "correct horse battery staple", "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("seamline_console="))
    assert "Secure" in cookie


def test_forms_without_the_sessions_token_are_refused_with_a_403_page(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    for data in ({}, {"csrf_token": "forged"}):
        refused = console.post(f"/console/customers/{ada}/corrections", data={**data, "trait.email": "x@example.com"})
        assert refused.status_code == 403
        assert "This form was not accepted" in refused.text
    login = console.post("/console/login", data={"username": "agent", "password": "x", "csrf_token": "forged"})
    assert login.status_code == 403
    assert console.post("/console/logout", data={"csrf_token": token[:-1]}).status_code == 403


def test_roles_see_only_their_pages(console: TestClient, engine: Engine, settings: Settings) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    for role in ("agent", "supervisor", "analyst", "admin"):
        make_user(engine, role, role)
    log_in(console, "analyst")
    assert console.get(f"/console/customers/{ada}").status_code == 403
    assert console.get("/console/find?q=ada").status_code == 403
    assert "Find a customer" not in console.get("/console").text
    log_in(console, "admin")
    assert console.get(f"/console/customers/{ada}").status_code == 403
    assert console.get("/console/users").status_code == 200
    log_in(console, "agent")
    page = console.get(f"/console/customers/{ada}")
    assert page.status_code == 200
    assert "Unmerge" not in page.text
    assert console.get("/console/users").status_code == 403


def test_find_by_identifier_product_and_misspelt_name(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, grace = ada_and_grace(console, engine, settings)
    sign_in("agent")
    for query in ("ada@EXAMPLE.com", "crm_id:C-1", "C-1", "u-ada", "ACC-778899", "Ada Lovelase", "lovelace"):
        page = console.get("/console/find", params={"q": query})
        assert f"/console/customers/{ada}" in page.text, query
        assert f"/console/customers/{grace}" not in page.text, query
    assert f"/console/customers/{grace}" in console.get("/console/find", params={"q": "Grace Hoper"}).text
    assert "Nobody matches" in console.get("/console/find", params={"q": "Zebedee Quux"}).text
    with unit_of_work(engine, write=False) as session:
        seen = entries(session, subject_type="profile", subject_id=grace)
    assert seen[0].actor == "console:agent"
    assert seen[0].surface == "console"


def test_customer_page_shows_everything_and_audits_the_view(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, _grace = ada_and_grace(console, engine, settings)
    sign_in("agent")
    page = console.get(f"/console/customers/{ada}")
    assert page.status_code == 200
    for shown in (
        "Ada Lovelace",
        "ada@example.com",
        "ACC-778899",
        "checking_account",
        "Statement Viewed",
        "marketing",
        "crm_id",
        "<!-- ==== OPEN CASES",
    ):
        assert shown in page.text or shown.startswith("<!--"), shown
    assert "Cache-Control" in page.headers
    assert page.headers["cache-control"] == "no-store"
    filtered = console.get(f"/console/customers/{ada}", params={"source": "crm"})
    # The timeline filters; the summary's last contacts above it still show the latest, whatever the filter.
    timeline = filtered.text.split('<h2 id="timeline">', 1)[1].split("</section>", 1)[0]
    assert "Statement Viewed" not in timeline
    with unit_of_work(engine, write=False) as session:
        views = [e.detail for e in entries(session, subject_type="profile", subject_id=ada)]
    assert {"view": "console"} in views
    assert console.get("/console/customers/999999").status_code == 404
    assert console.get("/console/customers/abc").status_code == 404
    assert console.get("/console/nothing-here").status_code == 404


def test_agent_corrects_the_email_and_a_preference_with_evidence(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    ada, grace = ada_and_grace(console, engine, settings)
    token = sign_in("agent")
    done = console.post(
        f"/console/customers/{ada}/corrections",
        data={
            "csrf_token": token,
            "trait.email": "ada.lovelace@example.com",
            "trait.lastName": "Lovelace",
            "reason": "on the call",
        },
    )
    assert done.status_code == 200
    assert "The correction is saved." in done.text
    assert "ada.lovelace@example.com" in done.text
    taken = console.post(
        f"/console/customers/{ada}/corrections", data={"csrf_token": token, "trait.email": "grace@example.com"}
    )
    assert taken.status_code == 400
    assert "belongs to another customer" in taken.text
    choice = console.post(
        f"/console/customers/{ada}/preferences",
        data={
            "csrf_token": token,
            "purpose": "marketing",
            "channel": "email",
            "value": "denied",
            "evidence": "Customer said: no more marketing emails",
        },
    )
    assert choice.status_code == 200
    assert "The choice is recorded" in choice.text
    no_evidence = console.post(
        f"/console/customers/{ada}/preferences",
        data={"csrf_token": token, "purpose": "marketing", "value": "denied", "evidence": " "},
    )
    assert no_evidence.status_code == 400
    with unit_of_work(engine, write=False) as session:
        changes = [e for e in entries(session, subject_type="profile", subject_id=ada) if e.action == "change"]
    assert len(changes) == 2
    assert {e.actor for e in changes} == {"console:agent"}
    assert profile_holding(engine, "email:grace@example.com") == grace  # the refused correction moved nothing


def test_supervisor_unmerges_a_wrong_merge(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    survivor, merged = wrong_merge(console, engine, settings)
    token = sign_in("supervisor")
    page = console.get(f"/console/customers/{merged}")
    assert f"Profile #{survivor}" in page.text  # the merged id shows the profile it lives in
    assert "Unmerge" in page.text
    merge_id = page.text.split('action="/console/merges/')[1].split("/")[0]
    form = {"csrf_token": token, "profile_id": str(survivor)}
    assert console.post(f"/console/merges/{merge_id}/unmerge", data={**form, "reason": ""}).status_code == 400
    undone = console.post(f"/console/merges/{merge_id}/unmerge", data={**form, "reason": "two people"})
    assert undone.status_code == 200
    assert "The merge is undone." in undone.text
    assert "undone" in undone.text
    assert "Bob Builder" not in console.get(f"/console/customers/{survivor}").text
    assert "Bob Builder" in console.get(f"/console/customers/{merged}").text


def test_hostile_values_are_escaped_and_long_names_wrap(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings
) -> None:
    _src, key = make_source(engine, "crm", "crm")
    long_name = "W" * 10_240
    send(
        console,
        key,
        {
            "type": "identify",
            "userId": "u-x",
            "traits": {"name": "<script>alert(1)</script>", "nickname": long_name, "note": "</textarea><b>bold</b>"},
        },
    )
    drain(engine, settings)
    sign_in("agent")
    found = console.get("/console/find", params={"q": "<script>"})
    assert "<script>alert(1)</script>" not in found.text
    pid = console.get("/console/find", params={"q": "u-x"}).text.split("/console/customers/")[1].split('"')[0]
    page = console.get(f"/console/customers/{pid}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<b>bold</b>" not in page.text
    assert long_name in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # no script may run at all
