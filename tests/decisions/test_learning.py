"""Propensity that learns: outcomes from the API and from `Offer *` tracking events move an action's Beta-Bernoulli
state, which the model API shows; bad outcomes are refused naming the item."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from tests.decisions.test_policy import _key, _track
from tests.support.people import person


def _model(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, float]]:
    answer = client.get("/v1/decisions/model", headers=headers)
    assert answer.status_code == 200, answer.text
    return {r["action"]: r for r in answer.json() if r["segment"] == "all"}


def test_outcomes_from_the_api_and_from_events_teach_the_model(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(client, engine, settings)
    headers = _key(engine, "decisions")
    assert _model(client, headers)["paperless_nudge"]["mean"] == 0.5  # the prior, Beta(1, 1)

    outcomes = [{"person": "user_id:u-ada", "action": "paperless_nudge", "outcome": o}
                for o in ("shown", "accepted", "shown", "ignored", "shown")]  # fmt: skip
    answer = client.post("/v1/decisions/outcomes", json={"outcomes": outcomes}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"recorded": 5}
    _track(client, engine, settings, "u-ada", ("Offer Accepted", {"action": "paperless_nudge", "channel": "web"}))

    state = _model(client, headers)["paperless_nudge"]
    assert (state["shown"], state["accepted"], state["ignored"]) == (3, 2, 1)
    assert (state["alpha"], state["beta"]) == (3.0, 2.0)  # 1 + 2 accepted; 1 + (3 shown - 2 accepted)
    assert state["mean"] == 0.6


def test_an_unknown_action_or_outcome_is_refused_naming_the_item(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(client, engine, settings)
    headers = _key(engine, "decisions")
    outcomes = [
        {"person": "user_id:u-ada", "action": "paperless_nudge", "outcome": "shown"},
        {"person": "user_id:u-ada", "action": "no_such_offer", "outcome": "loved"},
    ]
    answer = client.post("/v1/decisions/outcomes", json={"outcomes": outcomes}, headers=headers)
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["error"]["errors"]}
    assert fields == {"outcomes[1].action", "outcomes[1].outcome"}
    assert _model(client, headers)["paperless_nudge"]["shown"] == 0  # nothing changed
    assert client.post("/v1/decisions/outcomes", json={"outcomes": outcomes[:1]}).status_code == 401


def test_a_campaign_in_the_communications_log_teaches_its_action(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    person(client, engine, settings)
    sent = {"communication_id": "mc-9", "type": "marketing", "platform": "mailchimp", "channel": "email",
            "campaign": "savings_offer"}  # fmt: skip
    _track(client, engine, settings, "u-ada", ("Communication Sent", sent))
    _track(client, engine, settings, "u-ada", ("Communication Clicked", {"communication_id": "mc-9"}))
    _track(client, engine, settings, "u-ada", ("Communication Clicked", {"communication_id": "mc-unknown"}))

    state = _model(client, _key(engine, "decisions"))["savings_offer"]
    assert (state["shown"], state["accepted"]) == (1, 1)
