"""The demo bank ships its four journeys and customers part-way through them."""

from __future__ import annotations

from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.demo.bank import demo_people
from seamline.demo.journeys import load_demo_journeys, start_demo_journeys
from seamline.journeys.board import board
from seamline.pipeline.registry import Pipeline


def test_the_demo_bank_has_customers_part_way_through_its_journeys(engine: Engine, settings: Settings) -> None:
    assert load_demo_journeys(engine) == [
        "activate_card",
        "apply_for_mortgage",
        "go_paperless",
        "open_checking_account",
    ]
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    assert start_demo_journeys(engine, pipeline, demo_people(60)) == 12
    with unit_of_work(engine, write=False) as session:
        rows = {(r.journey, r.step): r.counts["open"] for r in board(session)}
    assert rows == {
        ("apply_for_mortgage", "income"): 4,
        ("go_paperless", "confirm_email"): 4,
        ("activate_card", "set_pin"): 4,
    }
