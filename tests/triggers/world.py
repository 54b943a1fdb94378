"""A small world for trigger tests: rule files in a folder, events through the real pipeline on a clock the test
moves, the worker's due steps run at a chosen moment, and what came of it read through the services."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.service import CommunicationView, communications_of
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.clock import isoformat_z
from seamline.core.db import unit_of_work
from seamline.identity.service import find_profile
from seamline.ingestion.service import append_processed
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from seamline.tasks.service import TaskView, list_tasks
from seamline.triggers.actions import Actions
from seamline.triggers.book import RuleBook
from seamline.triggers.service import StepView, TriggerEngine, steps_of
from seamline.worker.runner import Worker
from tests.support.builders import make_source

# A Monday morning, ten days ago, so that the inbox takes the events' times as they are.
START = (datetime.now(UTC) - timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)
START -= timedelta(days=START.weekday())
_ids = itertools.count(1)


def rule_folder(tmp_path: Path, rules: Mapping[str, str]) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for name, text in rules.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


class World:
    def __init__(self, engine: Engine, settings: Settings, folder: Path) -> None:
        self.engine, self.settings = engine, settings
        self.now = START
        catalog = Catalog(BUILTIN_DIR)
        actions = Actions(catalog, settings.consent, settings.tasks, settings.cases.calendar.calendar(),
                          settings.survivorship)  # fmt: skip
        self.book = RuleBook(folder, templates=frozenset(catalog.names()), reload_seconds=0)
        self.triggers = TriggerEngine(self.book, actions, clock=lambda: self.now)
        self.pipeline = Pipeline(settings.identity, settings.consent, settings.traits, triggers=self.triggers)
        self.source, _key = make_source(engine)

    def send(self, user: str, event: str | None = None, properties: Mapping[str, Any] | None = None,
             *, traits: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        """One event of `user` at the world's time, through the pipeline in its own transaction."""
        message: dict[str, Any] = {"messageId": f"m-{next(_ids)}", "userId": user, "timestamp": isoformat_z(self.now)}
        if event is None:
            message |= {"type": "identify", "traits": dict(traits or {})}
        else:
            message |= {"type": "track", "event": event, "properties": dict(properties or {})}
        self.process([message])

    def process(self, messages: Sequence[dict[str, Any]]) -> None:
        with unit_of_work(self.engine) as session:
            items = append_processed(session, self.source.id, messages)
            process_events(session, items, self.pipeline)

    def drain(self) -> int:
        """Run the inbox's waiting events (a journey save left for the worker) through this world's pipeline."""
        return Worker(self.engine, self.settings, pipeline=self.pipeline).drain()

    def customer(self, user: str, first_name: str = "Ada") -> None:
        self.send(user, traits={"email": f"{user}@example.com", "first_name": first_name})

    def run_due(self, at: datetime) -> int:
        self.now = at
        with unit_of_work(self.engine) as session:
            return self.triggers.run_due(session, at)

    def profile(self, user: str) -> int:
        with unit_of_work(self.engine, write=False) as session:
            return find_profile(session, f"user_id:{user}", self.pipeline).profile_id

    def communications(self, user: str) -> list[CommunicationView]:
        with unit_of_work(self.engine, write=False) as session:
            return communications_of(session, self.profile(user))

    def tasks(self) -> list[TaskView]:
        with unit_of_work(self.engine, write=False) as session:
            return list_tasks(session, now=self.now)

    def steps(self, user: str | int) -> list[StepView]:
        profile = user if isinstance(user, int) else self.profile(user)
        with unit_of_work(self.engine, write=False) as session:
            return steps_of(session, [profile])
