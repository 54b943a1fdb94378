"""The preference page: the paperless story through a plain HTML form, bad links, stale forms and hostile data."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.consent.service import delivery_preference_for, history
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.secrets import load_or_create_secret
from seamline.preferences.links import sign_link
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

HOSTILE = "<script>alert(1)</script>"


class _Form(HTMLParser):
    """What a browser without JavaScript would post: every checked radio and every hidden field."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.action = a["action"] or ""
        if tag == "input" and (a.get("type") == "hidden" or "checked" in a):
            self.fields[a["name"] or ""] = a["value"] or ""


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def _key(external_id: str) -> str:
    return hashlib.sha256(external_id.encode()).hexdigest()[:16]


def _link(client: TestClient, engine: Engine, profile_id: int) -> str:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm", ["profiles:write"])
    response = client.post(f"/v1/profiles/{profile_id}/preference-link", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    url = str(response.json()["url"])
    assert url.startswith("/preferences/")
    return url


def test_paperless_for_everything_but_the_mortgage_through_the_page(
    client: TestClient, engine: Engine, settings: Settings, ada: int
) -> None:
    url = _link(client, engine, ada)
    page = client.get(url)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<html lang="en">' in html
    assert 'href="#main"' in html
    assert "<script" not in html
    assert html.count("<fieldset>") > 10
    assert "<legend>" in html
    for masked in ("•••• HK-1", "•••• CC-9", "•••• TG-3"):
        assert masked in html
    assert "Mortgage" in html
    assert "always sent" in html  # service messages: on, with a note, not a choice
    assert 'name="c.service.' not in html

    form = _form(html)
    assert form.action == url
    assert form.fields["d.statements"] == "paper"  # the default, before anyone chose
    answers = {**form.fields, "d.statements": "electronic", f"d.statements.{_key('MTG-3')}": "paper"}
    saved = client.post(url, data=answers, headers={"User-Agent": "test-browser"}, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{url}?saved=1"
    after = client.get(saved.headers["location"])
    assert "Your changes have been saved" in after.text
    again = _form(after.text).fields
    assert again["d.statements"] == "electronic"
    assert again[f"d.statements.{_key('MTG-3')}"] == "paper"
    assert again[f"d.statements.{_key('CC-9')}"] == "follow"

    with unit_of_work(engine, write=False) as session:

        def delivery(product: str) -> str:
            return delivery_preference_for(session, ada, "statements", product=product, config=settings.consent).value

        assert delivery("CC-9") == "electronic"
        assert delivery("CHK-1") == "electronic"
        assert delivery("MTG-3") == "paper"
        ledger = history(session, ada)
    # Only what changed is recorded, the customer-wide choice before the product's exception.
    assert [(c.value, c.product, c.actor, c.surface) for c in ledger] == [
        ("paper", "MTG-3", "customer", "web"),
        ("electronic", None, "customer", "web"),
    ]
    assert ledger[1].evidence["text_shown"] == "How you receive statements: Electronic, online"
    assert ledger[0].evidence["text_shown"].startswith("How you receive statements for Mortgage •••• TG-3: Paper")
    assert ledger[0].evidence["user_agent"] == "test-browser"
    assert ledger[0].evidence["page"] == "preference page v1"
    assert "ip" in ledger[0].evidence

    # Posting the same page again changes nothing.
    resubmitted = client.post(url, data=again | {"nonce": again["nonce"]}, follow_redirects=False)
    assert resubmitted.status_code == 303
    with unit_of_work(engine, write=False) as session:
        assert len(history(session, ada)) == 2


def test_changing_everything_customer_wide_keeps_a_products_own_choice(
    client: TestClient, engine: Engine, settings: Settings, ada: int
) -> None:
    url = _link(client, engine, ada)
    fields = _form(client.get(url).text).fields
    client.post(url, data={**fields, f"d.statements.{_key('MTG-3')}": "electronic"})
    fields = _form(client.get(url).text).fields
    # Now statements go on paper everywhere; the mortgage keeps its own electronic choice.
    client.post(url, data={**fields, "d.statements": "paper", "c.marketing.email": "granted"})
    with unit_of_work(engine, write=False) as session:
        mortgage = delivery_preference_for(session, ada, "statements", product="MTG-3", config=settings.consent)
        card = delivery_preference_for(session, ada, "statements", product="CC-9", config=settings.consent)
    assert (mortgage.value, card.value) == ("electronic", "paper")


def test_a_bad_or_expired_link_gets_a_plain_page(client: TestClient, settings: Settings, ada: int) -> None:
    for token in ("nonsense", "1.2.3", sign_link(ada, utcnow() + timedelta(days=1), "not the server's secret")):
        for response in (client.get(f"/preferences/{token}"), client.post(f"/preferences/{token}", data={})):
            assert response.status_code == 401
            assert response.headers["content-type"].startswith("text/html")
            assert "This link does not work" in response.text
            assert "Traceback" not in response.text
    expired = sign_link(ada, utcnow() - timedelta(seconds=1), load_or_create_secret(settings.data_dir))
    response = client.get(f"/preferences/{expired}")
    assert response.status_code == 401
    assert "This link has expired" in response.text


def test_a_post_without_a_fresh_nonce_from_this_page_is_refused(
    client: TestClient, engine: Engine, settings: Settings, ada: int
) -> None:
    url = _link(client, engine, ada)
    fields = _form(client.get(url).text).fields
    for nonce in ("", "123.abc", fields["nonce"].replace(fields["nonce"][:3], "100", 1)):
        refused = client.post(url, data={**fields, "nonce": nonce, "d.statements": "electronic"})
        assert refused.status_code == 403
        assert "were not saved" in refused.text
    tampered = client.post(url, data={**fields, "d.statements": "carrier pigeon"})
    assert tampered.status_code == 400
    with unit_of_work(engine, write=False) as session:
        assert history(session, ada) == []


def test_hostile_names_and_products_render_as_text(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, bank = make_source(engine, "core-banking", "core-system")
    send(
        client,
        bank,
        {"type": "identify", "userId": "u-eve", "traits": {"email": "eve@example.com", "first_name": HOSTILE}},
        {
            "type": "track",
            "userId": "u-eve",
            "event": "Account Opened",
            "properties": {"account_id": f"X{HOSTILE}", "account_type": HOSTILE},
        },
    )
    drain(engine, settings)
    eve = profile_holding(engine, "user_id:u-eve")
    html = client.get(_link(client, engine, eve)).text
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert re.search(r"•••• ipt&gt;", html)


def test_the_choices_are_grouped_under_plain_questions(
    client: TestClient, engine: Engine, settings: Settings, ada: int
) -> None:
    html = client.get(_link(client, engine, ada)).text
    assert '<h2 id="h-marketing">May we send you offers and news?</h2>' in html
    group = html.split('<h2 id="h-marketing">', 1)[1].split("<h2 id=", 1)[0]
    assert (  # the question is read out with each group; sighted readers have it as the heading just above
        '<legend><span class="visually-hidden">May we send you offers and news? </span>For all my products</legend>'
        in group
    )
    assert "<legend>Email</legend>" in group  # each channel is one answer inside the question's group
    assert "<legend>Text message (SMS)</legend>" in group
    assert "Profiling to tailor offers by" not in html  # no purpose-by-channel jargon
