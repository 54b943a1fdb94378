"""Choices read from tracking messages: our consent and delivery events, and Segment's consent object."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from seamline.consent.config import ConsentConfig
from seamline.consent.tracking import consent_from_message

CONFIG = ConsentConfig()


def track(event: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A track message as the inbox stores it (a corrected timestamp, a message id)."""
    return {
        "type": "track",
        "event": event,
        "userId": "u-anna",
        "messageId": "m-1",
        "timestamp": "2026-05-01T10:00:00.000Z",
        "properties": properties,
        **extra,
    }


def test_a_consent_updated_event_states_one_choice_with_its_scope_and_evidence() -> None:
    message = track(
        "Consent Updated",
        {
            "purpose": "marketing",
            "channel": "email",
            "topic": "offers",
            "product": "CC-9",
            "value": "denied",
            "text_shown": "Send me offers about my card",
            "document_version": "privacy-2026-03",
            "legal_basis": "consent",
        },
        context={"ip": "203.0.113.9", "userAgent": "Mozilla/5.0", "page": {"url": "https://bank.example/card"}},
    )
    choices, errors = consent_from_message(message, config=CONFIG)
    assert errors == []
    [choice] = choices
    assert (choice.kind, choice.purpose, choice.channel, choice.topic, choice.product, choice.value) == (
        "consent",
        "marketing",
        "email",
        "offers",
        "CC-9",
        "denied",
    )
    assert choice.effective_at == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert choice.actor == "user:u-anna"
    assert choice.legal_basis == "consent"
    assert not choice.is_restatement
    assert choice.evidence == {
        "text_shown": "Send me offers about my card",
        "document_version": "privacy-2026-03",
        "message_id": "m-1",
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "page_url": "https://bank.example/card",
    }


def test_a_choice_from_a_products_app_is_customer_wide_unless_the_person_scoped_it() -> None:
    message = track(
        "Consent Updated",
        {"purpose": "Marketing", "channel": "in-app", "topic": "Product News", "granted": True},
        context={"app": {"name": "Card App"}, "channel": "mobile", "library": {"name": "analytics-ios"}},
    )
    [choice] = consent_from_message(message, config=CONFIG).choices
    assert (choice.purpose, choice.channel, choice.topic, choice.value) == (
        "marketing",
        "in_app",
        "product_news",
        "granted",
    )
    assert choice.product is None
    assert choice.surface == "mobile"


def test_a_list_of_channels_states_one_choice_per_channel_and_none_means_every_channel() -> None:
    message = track("Consent Updated", {"purpose": "marketing", "channels": ["email", "sms"], "granted": False})
    choices = consent_from_message(message, config=CONFIG).choices
    assert [(c.channel, c.value) for c in choices] == [("email", "denied"), ("sms", "denied")]
    [every] = consent_from_message(
        track("Consent Updated", {"purpose": "analytics", "value": "granted"}), config=CONFIG
    )[0]
    assert every.channel is None
    assert every.product is None


def test_segments_consent_preference_event_maps_categories_to_purposes() -> None:
    message = track(
        "Segment Consent Preference Updated",
        {},
        context={
            "consent": {
                "categoryPreferences": {
                    "Advertising": False,
                    "Analytics": True,
                    "Functional": True,
                    "DataSharing": False,
                }
            }
        },
    )
    choices, errors = consent_from_message(message, config=CONFIG)
    assert errors == []
    assert sorted((c.purpose, c.value) for c in choices) == [
        ("analytics", "granted"),
        ("marketing", "denied"),
        ("personalization", "granted"),
    ]
    assert all(c.channel is None and c.product is None and c.topic is None for c in choices)
    assert not any(c.is_restatement for c in choices)
    assert {c.evidence["segment_category"] for c in choices} == {"Advertising", "Analytics", "Functional"}


def test_the_consent_object_on_any_other_event_is_a_restatement() -> None:
    message = {
        "type": "page",
        "anonymousId": "a-7",
        "name": "Rates",
        "timestamp": "2026-05-01T10:00:00Z",
        "context": {"consent": {"categoryPreferences": {"Advertising": True}}, "library": {"name": "analytics.js"}},
    }
    [choice] = consent_from_message(message, config=CONFIG).choices
    assert (choice.purpose, choice.value, choice.is_restatement) == ("marketing", "granted", True)
    assert choice.actor == "anonymous:a-7"
    assert choice.surface == "analytics.js"


def test_a_configured_category_map_is_used() -> None:
    config = ConsentConfig(segment_categories={"C0004": "marketing"})
    message = track(
        "Segment Consent Preference Updated",
        {},
        context={"consent": {"categoryPreferences": {"C0004": True, "Advertising": False}}},
    )
    assert [(c.purpose, c.value) for c in consent_from_message(message, config=config).choices] == [
        ("marketing", "granted")
    ]


def test_a_delivery_preference_event_states_a_delivery_choice() -> None:
    message = track("Delivery Preference Updated", {"document_type": "tax forms", "value": "Electronic", "product": 42})
    [choice] = consent_from_message(message, config=CONFIG).choices
    assert (choice.kind, choice.document_type, choice.value, choice.product) == (
        "delivery",
        "tax_forms",
        "electronic",
        "42",
    )
    assert choice.purpose is None


def test_bad_payloads_come_back_as_errors_naming_the_field() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (track("Consent Updated", {"purpose": "marketting", "value": "denied"}), "properties.purpose"),
        (track("Consent Updated", {"purpose": "marketing"}), "properties.value"),
        (track("Consent Updated", {"purpose": "marketing", "value": "maybe"}), "properties.value"),
        (track("Consent Updated", {"purpose": "marketing", "granted": "yes"}), "properties.value"),
        (track("Consent Updated", {"value": "denied"}), "properties.purpose"),
        (track("Consent Updated", {"purpose": "marketing", "value": "denied", "channel": "fax"}), "properties.channel"),
        (
            track("Consent Updated", {"purpose": "marketing", "value": "denied", "product": {"id": 1}}),
            "properties.product",
        ),
        (
            track("Consent Updated", {"purpose": "marketing", "value": "denied", "expires_at": "soon"}),
            "properties.expires_at",
        ),
        (
            track("Consent Updated", {"purpose": "marketing", "value": "denied", "legal_basis": "vibes"}),
            "properties.legal_basis",
        ),
        (
            track("Delivery Preference Updated", {"document_type": "statements", "value": "carrier pigeon"}),
            "properties.value",
        ),
        (track("Delivery Preference Updated", {"value": "paper"}), "properties.document_type"),
        (
            track(
                "Segment Consent Preference Updated",
                {},
                context={"consent": {"categoryPreferences": {"Analytics": "yes"}}},
            ),
            "context.consent.categoryPreferences.Analytics",
        ),
    ]
    for message, field in cases:
        choices, errors = consent_from_message(message, config=CONFIG)
        assert choices == [], message
        assert field in [e.field for e in errors], (message, errors)


def test_one_bad_channel_does_not_lose_the_good_ones() -> None:
    message = track("Consent Updated", {"purpose": "marketing", "channels": ["email", "fax"], "value": "denied"})
    choices, errors = consent_from_message(message, config=CONFIG)
    assert [c.channel for c in choices] == ["email"]
    assert [e.field for e in errors] == ["properties.channel"]


def test_messages_without_consent_state_nothing() -> None:
    assert consent_from_message(track("Order Completed", {"order_id": "o-1"}), config=CONFIG) == ([], [])
    assert consent_from_message({"type": "identify", "userId": "u", "context": {"consent": {}}}, config=CONFIG) == (
        [],
        [],
    )
    assert consent_from_message({"type": "page", "context": "nonsense"}, config=CONFIG) == ([], [])


def test_a_malformed_ip_from_the_sdk_is_left_out_of_the_evidence_not_fatal() -> None:
    message = track("Consent Updated", {"purpose": "marketing", "value": "denied"}, context={"ip": "not-an-ip"})
    [choice] = consent_from_message(message, config=CONFIG).choices
    assert "ip" not in choice.evidence
