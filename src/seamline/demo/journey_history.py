"""Weeks of the demo bank's journeys as its apps report them (the documented `Journey …` event family): card
activations and mortgage applications started over the last six weeks, each step taking its own time, some
stopping part-way. The worker's stall scan marks the quiet ones stalled or abandoned, so the communications
area's bottlenecks show which steps are slow and where people stop (console: Communications → Bottlenecks).
The same every time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from seamline.journeys import family
from seamline.synthetic.people import Person

SEED = 20261206
CARDS, MORTGAGES = 48, 36
# (step, fields, mean hours from the step becoming current to its completion, share who complete it)
CARD_STEPS = (
    ("confirm_card", {"card_last4": "4821"}, 3.0, 0.85),
    ("set_pin", {"pin_set": True}, 0.4, 0.7),
)
MORTGAGE_STEPS = (
    ("about_you", None, 0.3, 0.95),  # the applicant's own name and email, below
    ("property", {"property_value": 450000, "loan_amount": 300000}, 20.0, 0.75),
    ("income", {"employer": "Northwind Traders", "annual_income": 85000}, 60.0, 0.55),
)
Message = tuple[str, dict[str, Any]]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _message(
    person: Person, n: int, journey: str, source: str, channel: str, name: str, when: datetime,
    step: str | None = None, fields: dict[str, Any] | None = None,
) -> Message:  # fmt: skip
    assert person.user_id is not None
    message = family.message(
        name, {"userId": person.user_id}, journey=journey, instance_id=f"ji_demo{SEED}{n:04d}", step=step,
        fields=fields, channel=channel, message_id=f"demo-journey-{n}-{name}-{step}",
    )  # fmt: skip
    return source, {**message, "timestamp": _iso(when)}


def journey_history(people: Sequence[Person], now: datetime) -> list[Message]:
    """Family events of past journeys, from the web and the app, for registered customers the other demo journeys
    and the mortgage funnel leave alone (the last of them)."""
    rng = random.Random(SEED)
    registered = [p for p in people if p.user_id is not None and p.emails][-(CARDS + MORTGAGES) :]
    out: list[Message] = []
    for n, person in enumerate(registered):
        journey, steps = ("activate_card", CARD_STEPS) if n < CARDS else ("apply_for_mortgage", MORTGAGE_STEPS)
        source, channel = ("ios-app", "mobile") if n % 2 else ("web", "web")
        at = now - timedelta(days=42) + timedelta(minutes=rng.randrange(60 * 24 * 38))
        out.append(_message(person, n, journey, source, channel, family.STARTED, at))
        for step, fields, hours, onward in steps:
            if rng.random() > onward:
                break  # stops here: stalled, later abandoned
            at += timedelta(hours=rng.expovariate(1 / hours))
            if at >= now:
                break
            given = fields or {"first_name": person.first_name, "last_name": person.last_name,
                               "email": person.emails[0]}  # fmt: skip
            out.append(_message(person, n, journey, source, channel, family.STEP_COMPLETED, at, step, given))
    return sorted(out, key=lambda m: str(m[1]["timestamp"]))
