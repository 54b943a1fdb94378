"""The console's pure pieces: national ids masked at any depth, events said in words, trait names as labels, and the
match comparison showing a national id masked."""

from __future__ import annotations

from datetime import UTC, datetime

from seamline.console.labels import trait_label
from seamline.console.masking import is_national_id, mask, masked
from seamline.console.matches import field_lines
from seamline.console.timeline_words import describe, is_system_event
from seamline.matching.service import ReviewView


def test_national_ids_are_recognized_and_masked_at_any_depth() -> None:
    for name in ("national_id", "nationalId", "SSN"):
        assert is_national_id(name), name
    assert not is_national_id("email")
    assert mask("912-34-5678") == "•••••5678"
    assert mask("123") == "•••••"  # too short to show any of it
    message = {"traits": {"nationalId": "912-34-5678", "email": "a@example.com"}, "batch": [{"ssn": "123456789"}]}
    assert masked(message) == {
        "traits": {"nationalId": "•••••5678", "email": "a@example.com"},
        "batch": [{"ssn": "•••••6789"}],
    }


def test_events_are_said_in_words() -> None:
    assert describe("page", "Pricing", {}) == "Viewed the page Pricing"
    assert describe("screen", "Account Overview", {}) == "Viewed the app screen Account Overview"
    assert describe("track", "Order Completed", {"properties": {"total": 42.5, "paid": True}}) == (
        "Order Completed: total 42.5, paid yes"
    )
    many = {"properties": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}}
    assert describe("track", "Big", many) == "Big: a 1, b 2, c 3 and 2 more"
    assert describe("identify", None, {"traits": {"firstName": "Ada", "national_id": "1"}}) == (
        "Details received: first name, national id"
    )
    assert describe("group", None, {"groupId": "ACC-1", "traits": {"status": "open"}}) == "Product ACC-1: status open"
    assert is_system_event("identify")
    assert not is_system_event("track")


def test_trait_names_read_as_words() -> None:
    assert trait_label("first_name") == "First name"
    assert trait_label("firstName") == "First name"
    assert trait_label("national_id") == "National id"


def test_the_match_comparison_masks_national_ids() -> None:
    view = ReviewView(
        id=1,
        left_profile_id=1,
        right_profile_id=2,
        probability=0.9,
        match_weight=3.0,
        model_version=1,
        outcome="review",
        status="pending",
        fields=[
            {"field": "national_id", "left": "912-34-5678", "right": "912-34-5678", "level": "exact", "weight": 9.0},
            {"field": "email", "left": "a@example.com", "right": None, "level": "missing", "weight": 0.0},
        ],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        decided_at=None,
        decided_by=None,
        note=None,
        message_id=None,
    )
    national, email = field_lines(view)
    assert (national.left, national.right, national.level) == ("•••••5678", "•••••5678", "exact")
    assert (email.left, email.right) == ("a@example.com", None)
