"""The contact policy's pure rules: the time zone a person lives in, quiet hours across midnight, the budget by
priority class, and the suppression of a product held or just bought."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seamline.core.forgetting import forget_personal_data
from seamline.decisions import contact
from seamline.decisions.config import Cap
from seamline.decisions.contact import (
    Contact,
    budget_verdict,
    class_of,
    phone_zone_name,
    product_suppression,
    quiet_verdict,
    zone_of,
)

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


def test_the_zone_comes_from_the_trait_else_the_phone_else_the_default() -> None:
    assert zone_of({"timezone": "America/New_York", "phone": "+33612345678"}, "timezone", "phone", "UTC").key == (
        "America/New_York"
    )
    assert zone_of({"timezone": "Mars/Olympus", "phone": "+33612345678"}, "timezone", "phone", "UTC").key == (
        "Europe/Paris"
    )
    assert zone_of({"phone": "not a number"}, "timezone", "phone", "Europe/London").key == "Europe/London"


def test_quiet_hours_across_midnight_hold_until_they_end_and_critical_passes() -> None:
    paris = zone_of({"timezone": "Europe/Paris"}, "timezone", "phone", "UTC")
    held = quiet_verdict("marketing", NOW, paris, "21:00", "08:00")  # 22:00 in Paris
    assert held is not None
    assert held.hold_until == datetime(2026, 12, 2, 8, 0, tzinfo=paris)
    early = quiet_verdict("service", NOW.replace(hour=5), paris, "21:00", "08:00")  # 06:00: the same morning
    assert early is not None
    assert early.hold_until == datetime(2026, 12, 1, 8, 0, tzinfo=paris)
    assert quiet_verdict("service", NOW.replace(hour=12), paris, "21:00", "08:00") is None
    assert quiet_verdict("critical", NOW, paris, "21:00", "08:00") is None
    assert quiet_verdict("marketing", NOW, paris, None, None) is None


def test_service_counts_against_the_budget_but_marketing_never_blocks_it() -> None:
    caps = [Cap(window_days=7, limit=3)]
    sent = [Contact(NOW - timedelta(days=d), p) for d, p in ((1, "marketing"), (2, "service"), (3, "marketing"))]
    stopped = budget_verdict("marketing", sent, caps, [], NOW)
    assert stopped is not None
    assert stopped.reason == "fatigue budget spent: 3 of 3 messages in 7 days"
    assert budget_verdict("service", sent, caps, [], NOW) is None
    assert budget_verdict("service", sent, caps, [Cap(window_days=7, limit=1)], NOW) is not None
    assert budget_verdict("critical", sent * 5, caps, [Cap(window_days=7, limit=0)], NOW) is None
    old = [Contact(NOW - timedelta(days=8), "marketing")] * 5
    assert budget_verdict("marketing", old, caps, [], NOW) is None  # outside the window


def test_a_reported_communication_is_classed_by_its_type() -> None:
    assert class_of(None, "marketing") == "marketing"
    assert class_of(None, "regulatory") == "critical"
    assert class_of(None, "statement") == "service"
    assert class_of("critical", "notice") == "critical"


def test_a_product_held_or_bought_in_the_window_is_not_marketed() -> None:
    names = frozenset({"credit_card", "card"})
    held = product_suppression("credit_card", names, frozenset({"card"}), [], NOW, 90)
    assert held is not None
    assert held.rule == "holds_product"
    bought = product_suppression(
        "credit_card", names, frozenset(), [("credit_card", NOW - timedelta(days=10))], NOW, 90
    )
    assert bought is not None
    assert bought.reason == "bought credit_card 10 days ago (window 90 days)"
    assert product_suppression("credit_card", names, frozenset(), [("card", NOW - timedelta(days=91))], NOW, 90) is None


def test_a_remembered_phone_zone_is_the_one_worked_out_and_the_memo_holds_no_number() -> None:
    phones = ["+33612345678", "+447700900123", "+12125550100", "+61491570156", "+97613623456", "+999123", "12", ""]
    for phone in phones * 2:  # the second time from the memo
        expected = phone_zone_name(phone) if phone else None
        assert zone_of({"phone": phone}, "timezone", "phone", "Asia/Tokyo").key == (expected or "Asia/Tokyo")
    assert phone_zone_name("+33612345678") == "Europe/Paris"
    assert phone_zone_name("+999123") is None  # no such country: the default applies
    remembered = repr(contact._PHONE_MEMO).encode()
    assert not any(p.lstrip("+").encode() in remembered for p in phones if len(p) > 4)
    assert contact._PHONE_MEMO  # remembered ...
    forget_personal_data()
    assert not contact._PHONE_MEMO  # ... and forgotten with every other cache when someone is erased
