"""Identifier extraction and normalization (pure)."""

from __future__ import annotations

import pytest

from seamline.identity.identifiers import Identifier, IdentifierExtractor, normalize_email, normalize_phone
from seamline.identity.rules import IdentifierRule, IdentityConfig, default_rules


@pytest.fixture
def extractor() -> IdentifierExtractor:
    return IdentifierExtractor(IdentityConfig())


def test_every_configured_path_is_read_and_normalized_strongest_first(extractor: IdentifierExtractor) -> None:
    found, refused = extractor.extract(
        {
            "userId": "u-1",
            "anonymousId": "a-1",
            "traits": {"email": "  Ada@Example.COM ", "phone": "(415) 555-0132"},
            "context": {
                "device": {"id": "D-9"},
                "externalIds": [
                    {"id": "C-77", "type": "crm_id", "collection": "users", "encoding": "none"},
                    {"id": "L-5", "type": "loyalty_card", "collection": "users", "encoding": "none"},
                ],
            },
        }
    )
    assert refused == []
    assert [str(i) for i in found] == [
        "user_id:u-1",
        "crm_id:C-77",
        "email:ada@example.com",
        "phone:+14155550132",
        "ext:loyalty_card:L-5",
        "device_id:D-9",
        "anonymous_id:a-1",
    ]


@pytest.mark.parametrize(
    ("message", "type_", "reason"),
    [
        ({"userId": "0"}, "user_id", "blocked_value"),
        ({"userId": "-1"}, "user_id", "blocked_value"),
        ({"userId": "00-000"}, "user_id", "blocked_value"),
        ({"anonymousId": "undefined"}, "anonymous_id", "blocked_value"),
        ({"userId": "[object Object]"}, "user_id", "blocked_value"),
        ({"userId": "u", "traits": {"email": "TEST@test.com"}}, "email", "blocked_value"),
        ({"userId": "u", "traits": {"email": "not-an-email"}}, "email", "invalid"),
        ({"userId": "u", "traits": {"phone": "12"}}, "phone", "invalid"),
        ({"userId": "u", "traits": {"email": "null"}}, "email", "blocked_value"),
    ],
)
def test_placeholders_and_invalid_values_are_refused_with_a_reason(
    extractor: IdentifierExtractor, message: dict[str, object], type_: str, reason: str
) -> None:
    found, refused = extractor.extract(message)
    assert all(i.type != type_ for i in found)
    assert [(r.type, r.reason) for r in refused] == [(type_, reason)]


def test_blocked_values_are_user_extendable_with_regular_expressions() -> None:
    rules = [r for r in default_rules() if r.type != "user_id"]
    rules.append(IdentifierRule(type="user_id", paths=["userId"], priority=10, blocked=["re:^tmp-"]))
    extractor = IdentifierExtractor(IdentityConfig(identifiers=rules))
    assert extractor.extract({"userId": "tmp-123"})[0] == []
    assert extractor.extract({"userId": "0"})[0] == [Identifier("user_id", "0")]  # the default list was replaced


def test_phone_region_is_configurable() -> None:
    assert normalize_phone("020 7946 0958", "GB") == "+442079460958"
    assert normalize_phone("020 7946 0958", "US") is None
    assert normalize_email("Ada.Lovelace@Example.org") == "ada.lovelace@example.org"


def test_identifier_text_form_round_trips_and_rejects_bad_input() -> None:
    # An external system's id is stored as type `ext:<system>`: its text form parses back to it.
    assert Identifier.parse("ext:loyalty:L-5") == Identifier("ext:loyalty", "L-5")
    assert Identifier.parse(str(Identifier("ext:loyalty", "L:5"))) == Identifier("ext:loyalty", "L:5")
    assert Identifier.parse("crm_id:C:1") == Identifier("crm_id", "C:1")
    with pytest.raises(ValueError, match="ext:system:value"):
        Identifier.parse("ext:loyalty")
    assert Identifier.parse("email:a@b.co") == Identifier("email", "a@b.co")
    with pytest.raises(ValueError, match="type:value"):
        Identifier.parse("no-colon")
