"""A resume link sent by email and SMS through the outbox: the customer gets a working link, and once the messages
have left, no table holds the live token in clear — the communications log keeps `[secret]` for it, the outbox
row's content is dropped, and only the token's digest stays."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, text

from seamline.communications.config import EmailConfig, ProviderConfig
from seamline.communications.service import view
from seamline.communications.templates import SECRET, Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.journeys.config import JourneysConfig
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import DEAD, replay
from tests.communications.conftest import deliver
from tests.journeys.support import journey_key, load_demo_definitions, ok, start
from tests.support.builders import make_source
from tests.support.flows import drain, send
from tests.support.providers import ACCOUNT_SID, AUTH_TOKEN, Provider, provider_server
from tests.support.smtp import Mailbox, smtp_server

PAGE = "https://bank.example/apply/resume?token="
TOKEN = re.compile(r"jrt_[A-Za-z0-9_-]+\.[A-Za-z0-9_=-]+")


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as served:
        yield served


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server() as served:
        yield served


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: tuple[Mailbox, int], provider: Provider) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        public_url="https://bank.example",
        email=EmailConfig(smtp_port=smtp[1], public_url="https://bank.example"),
        sms=ProviderConfig(
            provider="twilio",
            url=provider.url,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number="+15005550006",
        ),
        outbox=OutboxConfig(retry_schedule_seconds=[0.0], jitter=0.0),
        journeys=JourneysConfig(resume_url=PAGE + "{token}"),
    )


def _tables_holding(engine: Engine, needle: str) -> list[str]:
    """Every table with a row whose text shows `needle` anywhere."""
    found = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()  # noqa: S608 - table names from the schema
            if any(needle in str(value) for row in rows for value in row):
                found.append(table)
    return found


def test_a_resume_link_reaches_the_customer_and_no_table_keeps_the_live_token(
    client: TestClient, engine: Engine, settings: Settings, smtp: tuple[Mailbox, int], provider: Provider
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, web = make_source(engine, "web", "web")
    traits = {"email": "cy@example.com", "phone": "+447911123456"}
    send(client, web, {"type": "identify", "userId": "u-cy", "traits": traits})
    drain(engine, settings)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-cy", channel="web")["instance_id"]

    by_email = ok(client.post(f"/v1/journeys/{instance}/resume-link", json={}, headers=headers), 202)
    by_sms = ok(client.post(f"/v1/journeys/{instance}/resume-link", json={"channel": "sms"}, headers=headers), 202)
    assert (by_email["channel"], by_sms["channel"], by_email["status"]) == ("email", "sms", "queued")
    assert not TOKEN.search(str(by_email)), "the answer never holds the token"
    # Before it leaves, the token is in the outbox row only: the log keeps [secret] for it.
    with unit_of_work(engine, write=False) as session:
        logged = view(session, by_email["communication_id"]).fields
    assert (logged["resume_url"], logged["journey_name"]) == (SECRET, "Apply for a mortgage")

    with engine.connect() as conn:
        waiting = " ".join(str(p) for p in conn.execute(text("SELECT payload FROM outbox_messages")).scalars())
    queued = TOKEN.search(waiting)
    assert queued
    assert _tables_holding(engine, queued.group().split(".")[0]) == ["outbox_messages"]

    assert deliver(engine, settings) == 2
    [mail] = smtp[0].messages
    body = mail.get_body(("plain",))
    assert body is not None
    emailed = TOKEN.search(body.get_content())
    [sms] = provider.received
    texted = TOKEN.search(sms["Body"])
    assert emailed
    assert texted
    assert emailed.group() != texted.group()
    assert queued.group() in (emailed.group(), texted.group())
    assert PAGE + emailed.group() in body.get_content(), "the link is sent as it is: a click on it is not tracked"

    # The links work, each for this journey only.
    for token in (emailed.group(), texted.group()):
        opened = ok(client.get("/v1/journeys/resume", headers={"X-Resume-Token": token}))
        assert opened["instance_id"] == instance
        # Once sent, no table holds the token in clear, nor its random part: only its digest.
        assert _tables_holding(engine, token.split(".")[0]) == []
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT payload FROM outbox_messages")).scalars().all()
        assert len(kept) == 2
        assert all("resume" not in str(p) for p in kept)
        assert conn.execute(text("SELECT count(*) FROM journey_tokens")).scalar() == 2


def test_a_secret_field_cannot_be_logged_through_the_subject_or_kept_by_an_inbox_or_print_channel(
    tmp_path: Path,
) -> None:
    base = "version: '1'\ntype: service\npurpose: service\npriority: service\nowner: t\nfields: [code]\n"
    cases = {
        "in_subject": base + "secret_fields: [code]\nsubject: 'Code {{ code }}'\ntext: '{{ code }}'\n",
        "in_app": base + "secret_fields: [code]\nchannels: [email, in_app]\nsubject: s\ntext: '{{ code }}'\n",
        "undeclared": base + "secret_fields: [pin]\nsubject: s\ntext: '{{ code }}'\n",
    }
    for name, source in cases.items():
        (tmp_path / f"{name}.yaml").write_text(source, encoding="utf-8")
    catalog = Catalog(tmp_path)
    problems = {}
    for name in cases:
        with pytest.raises(InvalidInput) as refused:
            catalog.get(name)
        problems[name] = refused.value.errors[0].field
    assert problems == {"in_subject": "subject", "in_app": "channels", "undeclared": "secret_fields"}


def test_a_resume_link_that_dies_drops_its_content_and_cannot_be_replayed(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    load_demo_definitions(engine)
    headers = journey_key(engine)
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-di", "traits": {"phone": "+447911123457"}})
    drain(engine, settings)
    instance = start(client, headers, "apply_for_mortgage", user_id="u-di", channel="web")["instance_id"]
    provider.status = 503  # an outage: one retry, then a dead letter
    ok(client.post(f"/v1/journeys/{instance}/resume-link", json={"channel": "sms"}, headers=headers), 202)
    deliver(engine, settings)
    with engine.connect() as conn:
        [(row_id, status, payload)] = conn.execute(text("SELECT id, status, payload FROM outbox_messages")).all()
    assert status == DEAD
    assert "jrt_" not in str(payload)
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
        replay(session, [row_id])
    assert refused.value.errors[0].code == "content_dropped"
