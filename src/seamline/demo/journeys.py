"""The demo bank's journeys: its four definitions (open a checking account, apply for a mortgage, activate a
card, go paperless) loaded at the first start, and a few customers part-way through them, on the channels they
really use, so the customer page and the journeys board have something to show."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.journeys import actions
from seamline.journeys.installed import load_definitions
from seamline.pipeline.registry import Pipeline
from seamline.synthetic.people import Person

DEFINITIONS = Path(__file__).parent / "journey_definitions"
IN_PROGRESS = 12  # customers part-way through a journey


def load_demo_journeys(engine: Engine) -> list[str]:
    """Load the demo bank's definitions (what `[journeys] definitions_dir` does for a real bank)."""
    with unit_of_work(engine) as session:
        return load_definitions(session, DEFINITIONS, utcnow())


def start_demo_journeys(engine: Engine, pipeline: Pipeline, people: list[Person]) -> int:
    """A few registered customers part-way through a journey, each step on the device they used."""
    chosen = [p for p in people if p.user_id is not None and p.emails][:IN_PROGRESS]
    started = 0
    for i, person in enumerate(chosen):
        assert person.user_id is not None
        who = {"userId": person.user_id}
        phone = actions.Actor("mobile", "phone")
        laptop = actions.Actor("web", "laptop")
        with unit_of_work(engine) as session:
            if i % 3 == 0:
                row = actions.start(session, pipeline, "apply_for_mortgage", who, phone)
                about = {"first_name": person.first_name, "last_name": person.last_name, "email": person.emails[0]}
                actions.save(session, pipeline, row.public_id, "about_you", about, phone, complete=True)
                property_ = {"property_value": 420000 + 5000 * i, "loan_amount": 250000 + 2500 * i}
                actions.save(session, pipeline, row.public_id, "property", property_, laptop, complete=True)
            elif i % 3 == 1:
                row = actions.start(session, pipeline, "go_paperless", who, laptop)
                draft = {"email": person.emails[0]}
                actions.save(session, pipeline, row.public_id, "confirm_email", draft, laptop, complete=False)
            else:
                row = actions.start(session, pipeline, "activate_card", who, phone)
                card = {"card_last4": f"{1000 + i:04d}"[-4:]}
                actions.save(session, pipeline, row.public_id, "confirm_card", card, phone, complete=True)
        started += 1
    return started
