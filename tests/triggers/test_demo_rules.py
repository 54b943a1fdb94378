"""The demo bank's rule files load as the worker loads them, and its moments that matter each reach a person."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.demo.moments import RULES, install_rules, moments_traffic
from seamline.synthetic.people import generate_people
from seamline.triggers.book import load_rules
from tests.triggers.world import START, World


def test_the_demo_rules_load() -> None:
    rules = load_rules(RULES, templates=frozenset(Catalog(BUILTIN_DIR).names()))
    assert {r.name for r in rules} >= {
        "mortgage-income-stall", "third-complaint-in-30-days", "bereavement-notice", "failed-payment-vulnerable",
        "journey-stall-reminder", "mortgage-next-step-income",
    }  # fmt: skip


def test_the_demo_moments_make_tasks_in_their_queues(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    assert install_rules(folder) == len(list(RULES.glob("*.yaml")))
    world = World(engine, settings, folder)
    world.now = START + timedelta(days=1)
    traffic = moments_traffic(generate_people(40, 3), world.now)
    world.process([message for _source, message in traffic])
    assert sorted(t.queue for t in world.tasks()) == ["bereavement", "mortgages", "retention", "vulnerable-customers"]
