"""The triggers' test world with surveys: rule files whose steps send surveys, the real pipeline (with the feedback
consumer), invitations through the outbox, and the signing secret the app under test uses too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from seamline.communications.config import BUILTIN_DIR
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.feedback.service import AnswerView, FeedbackSetup, Invited, answers_of, invite
from seamline.pipeline.registry import Pipeline
from seamline.triggers.actions import Actions
from seamline.triggers.service import TriggerEngine
from seamline.worker.triggers import feedback_setup
from tests.triggers.world import World


class FeedbackWorld(World):
    def __init__(self, engine: Engine, settings: Settings, folder: Path) -> None:
        super().__init__(engine, settings, folder)
        catalog = Catalog(BUILTIN_DIR)
        self.feedback: FeedbackSetup = feedback_setup(settings, catalog)
        actions = Actions(catalog, settings.consent, settings.tasks, settings.cases.calendar.calendar(),
                          settings.survivorship, self.feedback)  # fmt: skip
        self.triggers = TriggerEngine(self.book, actions, clock=lambda: self.now)
        self.pipeline = Pipeline(settings.identity, settings.consent, settings.traits, triggers=self.triggers,
                                 feedback=self.feedback)  # fmt: skip

    def invite(self, user: str, survey: str, about: dict[str, Any], *, channel: str | None = None,
               at: datetime | None = None) -> Invited:  # fmt: skip
        with unit_of_work(self.engine) as session:
            return invite(session, self.feedback, self.profile(user), survey, about=about, now=at or self.now,
                          channel=channel)  # fmt: skip

    def answers(self, user: str) -> list[AnswerView]:
        with unit_of_work(self.engine, write=False) as session:
            return answers_of(session, self.profile(user))
