"""SMS and push through HTTP providers, to a loopback server standing for them: Twilio's Messages API and its
status callbacks signed with X-Twilio-Signature (computed by Twilio's own library), FCM HTTP v1, and the generic
JSON shape signed per Standard Webhooks (checked and signed by the spec's own library). Consent at send time, the
provider's answer, and callbacks that close a number or device like a hard bounce."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, text
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator

from seamline.communications.config import ProviderConfig
from seamline.communications.delivery import ContactPolicy
from seamline.communications.mobile import ProviderHandler
from seamline.communications.reachability import reachability
from seamline.communications.service import SMS_KIND, view
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.decisions.config import DecisionsConfig
from seamline.destinations.signing import new_secret
from seamline.outbox.config import OutboxConfig
from seamline.outbox.service import DEAD, entries
from seamline.worker.dispatcher import Dispatcher
from tests.communications.conftest import deliver, queue
from tests.support.builders import make_source
from tests.support.crash import kill_dispatcher_midway
from tests.support.flows import drain, profile_holding, send
from tests.support.providers import ACCOUNT_SID, AUTH_TOKEN, FCM_TOKEN, Provider, provider_server

PHONE = "+447911123456"
DEVICE = "fcm-device-token-ada"
ALERT = {"first_name": "Ada", "merchant": "Shop", "amount": "£9.99"}
MESSAGES = 30
DUE = {"first_name": "Ada", "amount": "£120.00", "due_date": "12 December"}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with provider_server() as served:
        served.secret = new_secret()
        yield served


@pytest.fixture
def settings(database_url: str, tmp_path: Path, provider: Provider) -> Settings:
    """SMS through Twilio, push through the generic webhook shape, both to the loopback provider; quick retries."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        public_url="https://bank.example",
        sms=ProviderConfig(
            provider="twilio",
            url=provider.url,
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number="+15005550006",
        ),
        push=ProviderConfig(provider="webhook", url=f"{provider.url}/push", secret=provider.secret),
        outbox=OutboxConfig(retry_schedule_seconds=[0.0, 0.0], jitter=0.0),
    )


def mobile_person(client: TestClient, engine: Engine, settings: Settings) -> int:
    """Ada, signed in on the app: a user id, an email, a mobile number and the app's device token."""
    _, key = make_source(engine, "ios-app", "mobile")
    identify = {"type": "identify", "userId": "u-ada", "context": {"device": {"id": DEVICE}},
                "traits": {"email": "ada@example.com", "phone": PHONE, "first_name": "Ada"}}  # fmt: skip
    send(client, key, identify)
    drain(engine, settings)
    return profile_holding(engine, "user_id:u-ada")


def twilio_callback(client: TestClient, callback_url: str, status: str, *, error: str = "", forge: bool = False) -> int:
    """Post a status callback as Twilio does: form fields, signed over the URL it was given."""
    form = {"MessageSid": "SM1", "MessageStatus": status, "AccountSid": ACCOUNT_SID, "To": PHONE}
    if error:
        form["ErrorCode"] = error
    signature = RequestValidator("not-the-token" if forge else AUTH_TOKEN).compute_signature(callback_url, form)
    parts = urlsplit(callback_url)
    answer = client.post(f"{parts.path}?{parts.query}", data=form, headers={"X-Twilio-Signature": signature})
    return answer.status_code


def _deny_sms(engine: Engine, settings: Settings, profile_id: int) -> None:
    with unit_of_work(engine) as session:
        record_choice(
            session, profile_id, kind="consent", purpose="service", channel="sms", value="denied", actor="test",
            surface="api", config=settings.consent,
        )  # fmt: skip


def test_an_sms_reaches_twilio_in_its_wire_shape_and_a_signed_status_callback_marks_it_delivered(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    alert = queue(engine, settings, ada, "fraud_alert", ALERT, channel="sms")
    assert provider.received == []  # nothing leaves before a dispatcher runs

    assert deliver(engine, settings) == 1

    [sms] = provider.received
    assert provider.rejected == 0  # Basic auth with the account SID and auth token
    assert (sms["shape"], sms["To"], sms["From"]) == ("twilio", PHONE, "+15005550006")
    assert sms["Body"] == "Bank: did you pay £9.99 to Shop? If not, call us now on 0800 123 456."
    callback = sms["StatusCallback"]
    assert callback == f"https://bank.example/v1/providers/twilio/status?communication_id={alert.communication_id}"
    with unit_of_work(engine, write=False) as session:
        sent = view(session, alert.communication_id)
    assert (sent.status, sent.channel, sent.address) == ("accepted", "sms", PHONE)
    assert "SM" in (sent.outcomes[-1].detail or "")

    assert twilio_callback(client, callback, "delivered", forge=True) == 401
    assert twilio_callback(client, callback, "sent") == 204  # a step before an outcome: nothing to log
    assert twilio_callback(client, callback, "delivered") == 204
    assert twilio_callback(client, callback, "delivered") == 204  # Twilio repeating itself adds nothing
    with unit_of_work(engine, write=False) as session:
        logged = view(session, alert.communication_id)
    assert [o.outcome for o in logged.outcomes] == ["queued", "accepted", "delivered"]
    assert (logged.status, logged.outcomes[-1].origin) == ("delivered", "callback")


def test_undelivered_makes_the_number_unreachable_so_even_a_critical_alert_is_not_sent_to_it(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    first = queue(engine, settings, ada, "payment_due", DUE, channel="sms")
    deliver(engine, settings)
    [sms] = provider.received
    assert sms["Body"] == "Bank: hello Ada, your payment of £120.00 is due on 12 December."

    assert twilio_callback(client, sms["StatusCallback"], "undelivered", error="30003") == 204

    with unit_of_work(engine, write=False) as session:
        bounced = view(session, first.communication_id)
        reach = reachability(session, ada, ["sms", "email"])
    assert bounced.status == "bounced_hard"
    assert bounced.outcomes[-1].detail == "Twilio undelivered (error 30003)"
    assert not reach["sms"].reachable
    assert reach["email"].reachable  # only the number is closed
    alert = queue(engine, settings, ada, "fraud_alert", ALERT, channel="sms")
    deliver(engine, settings)
    assert len(provider.received) == 1
    with unit_of_work(engine, write=False) as session:
        suppressed = view(session, alert.communication_id)
    assert suppressed.status == "suppressed"
    assert "unreachable" in (suppressed.outcomes[-1].detail or "")


def test_an_opt_out_of_sms_made_after_queueing_is_obeyed_but_a_critical_alert_still_goes(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    reminder = queue(engine, settings, ada, "payment_due", DUE, channel="sms")
    alert = queue(engine, settings, ada, "fraud_alert", ALERT, channel="sms")
    _deny_sms(engine, settings, ada)

    deliver(engine, settings)

    assert [m["Body"][:20] for m in provider.received] == ["Bank: did you pay £9"]
    with unit_of_work(engine, write=False) as session:
        assert view(session, reminder.communication_id).status == "suppressed"
        assert "denied" in (view(session, reminder.communication_id).outcomes[-1].detail or "")
        assert view(session, alert.communication_id).status == "accepted"


def test_twilio_refusing_a_number_is_a_hard_bounce_that_closes_it(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    provider.answers[PHONE] = (400, {"code": 21610, "message": "Attempt to send to unsubscribed recipient"})
    stopped = queue(engine, settings, ada, "payment_due", DUE, channel="sms")
    deliver(engine, settings)
    with unit_of_work(engine, write=False) as session:
        logged = view(session, stopped.communication_id)
        assert not reachability(session, ada, ["sms"])["sms"].reachable
    assert logged.status == "bounced_hard"
    assert "21610" in (logged.outcomes[-1].detail or "")

    assert provider.received == []


def test_a_provider_outage_retries_then_leaves_a_dead_letter_that_nothing_loses(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    provider.status = 503
    reminder = queue(engine, settings, ada, "payment_due", DUE, channel="sms")
    deliver(engine, settings)
    with unit_of_work(engine, write=False) as session:
        [dead] = entries(session, DEAD)
        logged = view(session, reminder.communication_id)
    assert dead.attempts == 3
    assert "503" in (dead.last_error or "")
    assert [o.outcome for o in logged.outcomes] == ["queued", "deferred", "deferred", "failed"]
    assert provider.received == []


def test_a_channel_the_template_does_not_declare_is_refused_naming_the_field(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = mobile_person(client, engine, settings)
    with pytest.raises(InvalidInput) as refused:
        queue(engine, settings, ada, "savings_offer", {"first_name": "Ada"}, channel="sms")
    assert [e.field for e in refused.value.errors] == ["channel"]


def webhook_callback(
    client: TestClient, secret: str, body: dict[str, object], *, at: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    """Post a generic provider's callback, signed per Standard Webhooks by the spec's own library."""
    raw = orjson.dumps(body)
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign("evt_1", at, raw.decode())
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature,
               "content-type": "application/json"}  # fmt: skip
    answer = client.post("/v1/providers/webhook/push", content=raw, headers=headers)
    return answer.status_code, answer.json() if answer.content else {}


def test_a_push_in_the_generic_shape_is_signed_and_its_signed_callbacks_are_logged(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    ada = mobile_person(client, engine, settings)
    alert = queue(engine, settings, ada, "fraud_alert", ALERT, channel="push")
    deliver(engine, settings)

    [push] = provider.received
    assert provider.rejected == 0  # the receiver verified our Standard Webhooks signature
    assert (push["shape"], push["type"], push["webhook-id"]) == ("webhook", "message.push", alert.communication_id)
    assert push["data"]["to"] == DEVICE
    assert push["data"]["title"] == "Did you pay Shop?"
    assert push["data"]["text"].startswith("Bank: did you pay £9.99")
    assert push["data"]["callback_url"] == "https://bank.example/v1/providers/webhook/push"

    delivered = {"type": "message.delivered", "data": {"communication_id": alert.communication_id}}
    assert webhook_callback(client, new_secret(), delivered)[0] == 401  # signed by someone else
    stale = datetime.now(UTC) - timedelta(minutes=10)
    assert webhook_callback(client, provider.secret, delivered, at=stale)[0] == 401  # a replay of an old one
    status, problem = webhook_callback(client, provider.secret, {"type": "message.lost", "data": {}})
    assert status == 400
    assert [e["field"] for e in problem["error"]["errors"]] == ["type"]
    assert webhook_callback(client, provider.secret, delivered)[0] == 204
    with unit_of_work(engine, write=False) as session:
        logged = view(session, alert.communication_id)
    assert [o.outcome for o in logged.outcomes] == ["queued", "accepted", "delivered"]

    failed = {"type": "message.failed", "data": {"communication_id": alert.communication_id, "reason": "gone"}}
    assert webhook_callback(client, provider.secret, failed)[0] == 204
    with unit_of_work(engine, write=False) as session:
        assert view(session, alert.communication_id).status == "bounced_hard"
        assert not reachability(session, ada, ["push"])["push"].reachable


def test_a_push_through_fcm_http_v1_and_an_unregistered_token_closes_the_device(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider, tmp_path: Path
) -> None:
    token_file = tmp_path / "fcm-token"
    token_file.write_text(FCM_TOKEN + "\n")
    fcm = ProviderConfig(provider="fcm", url=provider.url, project_id="bank", access_token_file=token_file)
    fcm_settings = settings.model_copy(update={"push": fcm})
    ada = mobile_person(client, engine, settings)
    first = queue(engine, settings, ada, "fraud_alert", ALERT, channel="push")
    deliver(engine, fcm_settings)

    [push] = provider.received
    assert provider.rejected == 0  # the bearer token read from the file
    assert (push["shape"], push["token"]) == ("fcm", DEVICE)
    assert push["notification"]["title"] == "Did you pay Shop?"
    assert push["data"] == {"communication_id": first.communication_id}

    provider.answers[DEVICE] = (404, {"error": {"status": "NOT_FOUND", "message": "Requested entity was not found."}})
    second = queue(engine, settings, ada, "fraud_alert", ALERT, channel="push")
    deliver(engine, fcm_settings)
    with unit_of_work(engine, write=False) as session:
        logged = view(session, second.communication_id)
        reach = reachability(session, ada, ["push"])["push"]
    assert logged.status == "bounced_hard"
    assert "NOT_FOUND" in (logged.outcomes[-1].detail or "")
    assert not reach.reachable


def test_a_provider_that_does_not_carry_the_channel_is_refused_in_the_settings() -> None:
    with pytest.raises(ValidationError, match=r"sms\.provider must be twilio, webhook or none"):
        Settings(sms=ProviderConfig(provider="fcm"))
    with pytest.raises(ValidationError, match=r"push\.provider must be fcm, webhook or none"):
        Settings(push=ProviderConfig(provider="twilio"))


def test_a_dispatcher_killed_mid_run_sends_every_sms_and_a_repeat_only_under_the_same_webhook_id(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    gateway = ProviderConfig(provider="webhook", url=f"{provider.url}/sms", secret=provider.secret)
    webhook_settings = settings.model_copy(update={"sms": gateway})
    ada = mobile_person(client, engine, settings)
    queued = {
        queue(engine, settings, ada, "payment_due", {**DUE, "amount": f"£{n}"}, channel="sms").communication_id
        for n in range(MESSAGES)
    }
    provider.delay_seconds = 0.05  # a slow gateway: the kill lands while a claimed batch is being sent
    kill_dispatcher_midway(
        settings,
        lambda: len(provider.received),
        {"SEAMLINE_SMS__PROVIDER": "webhook", "SEAMLINE_SMS__URL": gateway.url, "SEAMLINE_SMS__SECRET": gateway.secret},
    )
    assert 5 <= len(provider.received) < MESSAGES  # it died in the middle
    provider.delay_seconds = 0.0
    deliver(engine, webhook_settings)

    ids = Counter(m["webhook-id"] for m in provider.received)
    assert set(ids) == queued  # every message reached the gateway, and nothing else did
    assert all(count <= 2 for count in ids.values())  # a repeat carries the same webhook-id: the gateway drops it
    assert all(m["data"]["communication_id"] == m["webhook-id"] for m in provider.received)
    with engine.connect() as conn:
        assert {r[0] for r in conn.execute(text("SELECT status FROM outbox_messages"))} == {"sent"}
        accepted = conn.execute(text("SELECT count(*) FROM communications WHERE status = 'accepted'")).scalar()
    assert accepted == MESSAGES


def test_quiet_hours_hold_an_sms_in_the_phones_own_time_zone_and_a_fraud_alert_goes(
    client: TestClient, engine: Engine, settings: Settings, provider: Provider
) -> None:
    clock = [datetime(2026, 12, 1, 21, 30, tzinfo=UTC)]  # 21:30 in London, where Ada's +44 number says she lives
    night = DecisionsConfig(default_timezone="Asia/Tokyo", quiet_start="21:00", quiet_end="08:00")
    policy = ContactPolicy(night, clock=lambda: clock[0])  # the one contact policy every channel asks
    ada = mobile_person(client, engine, settings)
    reminder = queue(engine, settings, ada, "payment_due", DUE, channel="sms")
    alert = queue(engine, settings, ada, "fraud_alert", ALERT, channel="sms")

    def run(rounds: int = 1000) -> None:
        runner = Dispatcher(engine, settings.outbox, [ProviderHandler(SMS_KIND, settings.sms, settings.consent,
                                                                      settings.public_base_url, policy)])  # fmt: skip
        runner.drain(rounds=rounds)
        runner.stop()

    # One round: the claims read the real clock, by which the policy's 08:00 is already past, so every further
    # round would claim the held reminder and hold it again (a thousand rounds, seconds of the suite).
    run(rounds=1)
    assert [m["Body"][:20] for m in provider.received] == ["Bank: did you pay £9"]  # critical: at once
    with unit_of_work(engine, write=False) as session:
        held = view(session, reminder.communication_id)
        assert view(session, alert.communication_id).status == "accepted"
    assert held.status == "deferred"
    # The zone of a +44 7 number (phonenumbers names the first of the UK's zones, all on London's clock), not the
    # configured default: held until 08:00 there.
    detail = held.outcomes[-1].detail or ""
    assert "quiet hours in Europe/" in detail
    assert "until 2026-12-02 08:00 local" in detail

    clock[0] = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # morning in London: the held reminder is due and goes
    run()
    assert len(provider.received) == 2
    with unit_of_work(engine, write=False) as session:
        assert view(session, reminder.communication_id).status == "accepted"
