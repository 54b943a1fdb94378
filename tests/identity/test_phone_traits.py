"""A valid phone number in a trait (`telephone`, `phone`, `mobile`) is a phone identifier: search finds the
customer by it. A phone is weaker evidence than a login: it joins an anonymous caller, but never takes a record
with its own new customer number to the person already holding the number (a household's landline)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.identity.identifiers import Identifier, IdentifierExtractor
from seamline.identity.rules import IdentityConfig
from seamline.pipeline.registry import Pipeline
from seamline.profiles.vocabulary import VocabularyConfig
from tests.support.builders import make_source
from tests.support.flows import active_profiles, drain, identifiers_by_profile, profile_holding, send


def silo_record(system: str, number: str, traits: dict[str, str]) -> dict[str, object]:
    """A silo export's row as the import sends it: the record's own customer number and its traits."""
    return {
        "type": "identify",
        "anonymousId": f"{system}:{number}",
        "traits": traits,
        "context": {"externalIds": [{"id": number, "type": f"{system}_customer", "encoding": "none"}]},
    }


def test_a_phone_under_any_trait_name_is_a_phone_identifier() -> None:
    extractor = IdentifierExtractor(IdentityConfig())
    for name in ("phone", "telephone", "mobile", "phone_number", "mobilePhone"):
        found, _refused = extractor.extract(
            {"type": "identify", "anonymousId": "a", "traits": {name: "(415) 555-0132"}}
        )
        assert Identifier("phone", "+14155550132") in found, name
    found, refused = extractor.extract({"type": "identify", "anonymousId": "a", "traits": {"telephone": "12"}})
    assert [i.type for i in found] == ["anonymous_id"]  # not a valid number: no identifier, a recorded refusal
    assert [(r.type, r.reason) for r in refused] == [("phone", "invalid")]


def test_a_household_landline_is_held_by_both_but_joins_no_two_records(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    _, checking = make_source(engine, "core-banking", "import")
    _, cards = make_source(engine, "cards-system", "import")
    _, calls = make_source(engine, "call-center", "call-center")
    send(
        client,
        checking,
        silo_record("checking", "CHK-1", {"first_name": "Ann", "last_name": "Lee", "telephone": "(415) 555-0132"}),
    )
    send(
        client,
        cards,
        silo_record("cards", "CRD-7", {"first_name": "Bo", "last_name": "Lee", "mobile": "+1 415-555-0132"}),
    )
    drain(engine, settings)
    ann = profile_holding(engine, "ext:checking_customer:CHK-1")
    bo = profile_holding(engine, "ext:cards_customer:CRD-7")
    assert ann != bo  # the shared landline did not join two people's records
    held = identifiers_by_profile(engine)
    assert "phone:+14155550132" in held[ann]
    assert "phone:+14155550132" in held[bo]

    # An anonymous caller giving the number still joins a known holder (the phone-only call stitch).
    send(client, calls, {"type": "identify", "anonymousId": "call-1", "traits": {"phone": "415 555 0132"}})
    drain(engine, settings)
    assert profile_holding(engine, "anonymous_id:call-1") in {ann, bo}
    assert len(active_profiles(engine)) == 2


def test_a_configured_alias_of_phone_is_read_as_a_phone_too() -> None:
    context = Pipeline(IdentityConfig(), traits=VocabularyConfig(aliases={"handy": "phone"}))
    found, _refused = context.extractor.extract(
        {"type": "identify", "anonymousId": "a", "traits": {"handy": "+4915112345678"}}
    )
    assert Identifier("phone", "+4915112345678") in found
    assert context.vocabulary.canonical_name("handy") == "phone"
