"""Decisions for many people at once, both databases: `decide_many` reads everyone in set queries and gives each
person the answer `decide` gives one by one (the same actions chosen and the same rule stopping each other action;
only the Thompson draws differ), by the profile id asked; an unknown person is left out."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.cases.service import open_case
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.decisions.arbitration import Situation
from seamline.decisions.many import decide_many
from seamline.decisions.service import Decided, Setup, decide
from seamline.identity.feed import mark_erased
from seamline.identity.service import active_header
from tests.decisions.test_policy import _grant_marketing, _track
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send
from tests.support.people import person


def _answer(decided: Decided) -> tuple[int, str, list[str], list[tuple[str, str]]]:
    decision = decided.decision
    chosen = sorted(r.action.name for r in decision.ranked)
    return decided.profile_id, decided.segment, chosen, sorted((s.action.name, s.rule) for s in decision.stopped)


def test_many_people_get_the_answers_they_get_one_by_one(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    setup = Setup.build(settings.decisions, settings.consent, settings.survivorship, settings.cases)
    ada = person(client, engine, settings)
    bo = person(client, engine, settings, user_id="u-bo", email="bo@example.com")
    cy = person(client, engine, settings, user_id="u-cy", email="cy@example.com")
    _grant_marketing(engine, settings, ada)
    _grant_marketing(engine, settings, cy)
    _track(client, engine, settings, "u-ada", ("Card Issued", {"card_id": "C-77"}))
    _track(client, engine, settings, "u-cy", ("Order Completed", {"product_type": "savings_account"}))

    for channel in ("web", "email", "call_center"):
        situation = Situation(channel)
        with unit_of_work(engine, write=False) as session:
            together = decide_many(session, [ada, bo, cy, 987_654], situation, setup, limit=50)
            alone = {p: decide(session, p, situation, setup, limit=50) for p in (ada, bo, cy)}
        assert sorted(together) == sorted(alone)  # the unknown profile is left out
        for profile_id, decided in alone.items():
            assert _answer(together[profile_id]) == _answer(decided)
    with unit_of_work(engine, write=False) as session:
        card = {
            s.action.name: s.rule for s in decide_many(session, [ada], Situation("email"), setup)[ada].decision.stopped
        }
    assert card["card_offer"] == "holds_product"  # the set reads see the holding the per-person read sees


def test_the_set_reads_see_cases_consent_by_channel_and_contested_traits_as_one_by_one(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    setup = Setup.build(settings.decisions, settings.consent, settings.survivorship, settings.cases)
    ada = person(client, engine, settings)
    bo = person(client, engine, settings, user_id="u-bo", email="bo@example.com")
    for profile_id in (ada, bo):
        _grant_marketing(engine, settings, profile_id)
    with unit_of_work(engine) as session:  # ada has a case being worked; bo said no to marketing by email
        open_case(session, settings.cases, profile_id=ada, subject="Card declined", channel="phone", actor="maria",
                  surface="console")  # fmt: skip
        record_choice(session, bo, kind="consent", purpose="marketing", channel="email", value="denied", actor="test",
                      surface="api", config=settings.consent)  # fmt: skip
    for source, segment in (("crm", "mass"), ("branch", "affluent")):  # two sources disagree: survivorship chooses
        _, key = make_source(engine, source, source)
        send(client, key, {"type": "identify", "userId": "u-bo", "traits": {"segment": segment}})
    drain(engine, settings)

    for channel in ("email", "web"):
        with unit_of_work(engine, write=False) as session:
            together = decide_many(session, [ada, bo], Situation(channel), setup, limit=50)
            alone = {p: decide(session, p, Situation(channel), setup, limit=50) for p in (ada, bo)}
        assert {p: _answer(d) for p, d in together.items()} == {p: _answer(d) for p, d in alone.items()}
    with unit_of_work(engine, write=False) as session:
        by_email = decide_many(session, [ada, bo], Situation("email"), setup, limit=50)
    rules = {p: {s.action.name: s.rule for s in d.decision.stopped} for p, d in by_email.items()}
    assert rules[ada]["card_offer"] == "eligibility"  # an open case: the card offer waits
    assert rules[bo]["card_offer"] == "consent"  # the channel's own denial outweighs the customer-wide grant
    assert by_email[bo].segment == "affluent"  # the most recent source's value, as one by one


def test_a_merged_profile_is_decided_as_its_person_and_an_erased_person_is_left_out(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    setup = Setup.build(settings.decisions, settings.consent, settings.survivorship, settings.cases)
    _, key = make_source(engine, "web-anon", "web")
    send(client, key, {"type": "track", "anonymousId": "anon-1", "event": "Page Viewed"})
    drain(engine, settings)
    visitor = profile_holding(engine, "anonymous_id:anon-1")
    ada = person(client, engine, settings)
    send(client, key, {"type": "identify", "userId": "u-ada", "anonymousId": "anon-1", "traits": {"segment": "vip"}})
    drain(engine, settings)
    cy = person(client, engine, settings, user_id="u-cy", email="cy@example.com")
    with unit_of_work(engine) as session:
        mark_erased(session, [cy], 1, utcnow())
    with unit_of_work(engine, write=False) as session:
        root = int(active_header(session, visitor).id)
        assert root == int(active_header(session, ada).id)  # the two profiles are one person now
        together = decide_many(session, [visitor, ada, cy], Situation("web"), setup, limit=50)
        alone = decide(session, visitor, Situation("web"), setup, limit=50)
    assert sorted(together) == sorted([ada, visitor]), (root, ada, visitor, cy)
    assert together[visitor].profile_id == together[ada].profile_id == root  # both asked ids lead to the person
    assert _answer(together[visitor]) == _answer(alone)
    assert together[visitor].segment == "vip"  # the absorbed profile's trait reached the person
