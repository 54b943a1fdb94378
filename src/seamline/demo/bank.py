"""The demo bank's customers and their channel traffic, drawn from the synthetic generator (the same every time)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from seamline.synthetic.events import generate_events
from seamline.synthetic.people import Person, generate_people

DEMO_SEED = 20261122
DEMO_PEOPLE = 1_000
DEMO_EVENTS = 6_000
DEMO_DAYS = 30.0


def demo_people(n: int = DEMO_PEOPLE) -> list[Person]:
    """The bank's customers: households with logins, devices, accounts, cards and mortgages."""
    return generate_people(n, DEMO_SEED)


def channel_traffic(
    people: list[Person], now: datetime, n_events: int = DEMO_EVENTS
) -> list[tuple[str, dict[str, Any]]]:
    """The last month of web, app, call-center, CRM and product-system events, oldest first, with their source."""
    start = now - timedelta(days=DEMO_DAYS)
    return [(e.source, e.message) for e in generate_events(people, n_events, DEMO_SEED, start, days=DEMO_DAYS)]
