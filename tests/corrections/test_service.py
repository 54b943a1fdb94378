"""Corrections land at once as events of the console source, never merge customers, and survive an unmerge."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.core.principal import Principal
from seamline.corrections.service import correct_profile
from seamline.identity.service import identifier_links
from seamline.pipeline.registry import Pipeline
from seamline.profiles.service import golden_traits
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send

AGENT = Principal(name="console:ada", kind="operator", scopes=frozenset(), surface="console")


def golden(engine: Engine, settings: Settings, profile_id: int) -> dict[str, object]:
    with unit_of_work(engine, write=False) as session:
        return {t.name: t.value for t in golden_traits(session, profile_id, {}, settings.survivorship)}


@pytest.fixture
def people(client: TestClient, engine: Engine, settings: Settings) -> tuple[int, int]:
    _crm, key = make_source(engine, "crm", "crm")
    send(
        client,
        key,
        {
            "type": "identify",
            "anonymousId": "crm:1",
            "traits": {"crm_id": "C-1", "name": "Jon Smiht", "email": "jon@example.com"},
        },
        {"type": "identify", "userId": "u-2", "traits": {"name": "Mary Major", "email": "mary@example.com"}},
    )
    drain(engine, settings)
    return profile_holding(engine, "crm_id:C-1"), profile_holding(engine, "user_id:u-2")


def test_a_correction_shows_at_once_with_the_console_as_its_source(
    engine: Engine, settings: Settings, people: tuple[int, int]
) -> None:
    jon, _mary = people
    context = Pipeline(settings.identity, settings.consent)
    with unit_of_work(engine) as session:
        done = correct_profile(
            session,
            jon,
            {"name": "Jon Smith", "email": "jon.smith@example.com"},
            actor=AGENT,
            context=context,
            reason="customer spelled it out",
        )
    assert done.profile_id == jon
    assert done.source == "console"
    now = golden(engine, settings, jon)
    assert (now["name"], now["email"]) == ("Jon Smith", "jon.smith@example.com")
    with unit_of_work(engine, write=False) as session:
        held = {f"{link.type}:{link.value}" for link in identifier_links(session, jon)}
        audit = entries(session, subject_type="profile", subject_id=jon)
    assert {"crm_id:C-1", "email:jon@example.com", "email:jon.smith@example.com"} <= held
    assert audit[0].actor == "console:ada"
    assert audit[0].detail["corrected"] == ["email", "name"]


def test_an_email_of_another_customer_is_refused_and_nothing_changes(
    engine: Engine, settings: Settings, people: tuple[int, int]
) -> None:
    jon, _mary = people
    context = Pipeline(settings.identity, settings.consent)
    with pytest.raises(InvalidInput) as caught, unit_of_work(engine) as session:
        correct_profile(session, jon, {"email": "MARY@example.com", "name": "X"}, actor=AGENT, context=context)
    assert [(e.field, e.code) for e in caught.value.errors] == [("traits.email", "held_by_another_profile")]
    with pytest.raises(InvalidInput) as bad, unit_of_work(engine) as session:
        correct_profile(session, jon, {"email": "not an email", "user_id": "u-9"}, actor=AGENT, context=context)
    assert {(e.field, e.code) for e in bad.value.errors} == {("traits.user_id", "system_owned")}
    with pytest.raises(InvalidInput) as invalid, unit_of_work(engine) as session:
        correct_profile(session, jon, {"email": "not an email"}, actor=AGENT, context=context)
    assert [(e.field, e.code) for e in invalid.value.errors] == [("traits.email", "invalid")]
    assert golden(engine, settings, jon)["name"] == "Jon Smiht"
