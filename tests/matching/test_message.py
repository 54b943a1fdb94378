"""The match event: one identifier of each profile, on paths that make no traits. Pure."""

from __future__ import annotations

from seamline.identity.identifiers import IdentifierExtractor
from seamline.identity.rules import IdentityConfig
from seamline.matching.message import chosen_identifier, match_message
from seamline.profiles.facts import trait_values

CONFIG = IdentityConfig()
RULES = {r.type: r for r in CONFIG.identifiers}
MATCH = {"match_id": 7, "model_version": 3, "probability": 0.999}


def _carried(message: dict[str, object]) -> set[str]:
    found, _refused = IdentifierExtractor(CONFIG).extract(message)
    return {str(i) for i in found}


def test_the_strongest_travelling_identifier_names_each_side() -> None:
    links = [("anonymous_id", "crm:1"), ("email", "a@x.io"), ("ext:checking_customer", "C1"), ("phone", "+1415")]
    assert chosen_identifier(links, RULES) == ("email", "a@x.io")
    assert chosen_identifier([("anonymous_id", "b"), ("phone", "+1")], RULES) == ("anonymous_id", "b")
    assert chosen_identifier([("phone", "+1")], RULES) is None


def test_message_carries_both_sides_and_no_traits() -> None:
    message = match_message(MATCH, ("email", "a@x.io"), ("email", "b@x.io"), RULES, ["web:1"])
    assert _carried(message) >= {"email:a@x.io", "email:b@x.io"}
    assert trait_values(message) == {}
    assert message["context"]["match"]["match_id"] == 7
    assert message["messageId"] == "match-7"


def test_user_ids_external_ids_and_anonymous_ids_travel_too() -> None:
    message = match_message(MATCH, ("user_id", "u1"), ("ext:cards_customer", "C9"), RULES, [])
    assert _carried(message) == {"user_id:u1", "ext:cards_customer:C9"}
    message = match_message(MATCH, ("anonymous_id", "x"), ("anonymous_id", "y"), RULES, [])
    assert _carried(message) == {"anonymous_id:x", "anonymous_id:y"}
    message = match_message(MATCH, ("crm_id", "K1"), ("national_id", "N1"), RULES, [])
    assert "crm_id:K1" in _carried(message)


def test_the_identity_graph_honours_declared_national_ids_one_typo_apart_or_marked_as_differing() -> None:
    from seamline.identity.matchevent import tolerated_values

    def event(declared: dict[str, object]) -> dict[str, object]:
        return {"context": {"match": {**MATCH, "id_typo": {"type": "national_id", **declared}}}}

    typo = tolerated_values(event({"values": ["900123456", "900123465"]}), RULES)
    assert typo == {"national_id": frozenset({"900123456", "900123465"})}
    # ids that differ outright: only when the match says it weighed the difference
    assert tolerated_values(event({"values": ["2534242", "5860195"]}), RULES) is None
    weighed = tolerated_values(event({"values": ["2534242", "5860195"], "differs": True}), RULES)
    assert weighed == {"national_id": frozenset({"2534242", "5860195"})}
    assert tolerated_values(event({"values": ["2534242", "2534242"], "differs": True}), RULES) is None
    # a person whose id two sources mistyped: every value one typo from another, or weighed as differing
    three = ["900123456", "900123465", "900124456"]
    assert tolerated_values(event({"values": three}), RULES) == {"national_id": frozenset(three)}
    unlinked = ["900123456", "900123465", "111222333"]
    assert tolerated_values(event({"values": unlinked}), RULES) is None
    assert tolerated_values(event({"values": unlinked, "differs": True}), RULES) == {"national_id": frozenset(unlinked)}
    assert tolerated_values(event({"values": ["900123456"], "differs": True}), RULES) is None
    assert tolerated_values(event({"values": ["900123456", 900123465], "differs": True}), RULES) is None
