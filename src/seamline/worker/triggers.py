"""The trigger engine a worker runs, built from the settings: the rule folder, templates, consent, tasks' clock, and
the surveys its `survey` steps send."""

from __future__ import annotations

from functools import cache

from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.secrets import load_or_create_secret
from seamline.feedback.service import FeedbackSetup
from seamline.triggers.actions import Actions
from seamline.triggers.book import RuleBook
from seamline.triggers.membership import Audience, segments_path
from seamline.triggers.segments import conditions_of, load_segments
from seamline.triggers.service import TriggerEngine


def feedback_setup(settings: Settings, catalog: Catalog | None = None) -> FeedbackSetup:
    """The surveys of `[feedback] surveys_dir` (a bad file stops the start), with what invitations and follow-up
    tasks need: templates, consent, the tasks' clock, the signing secret and the public address of the page."""
    return FeedbackSetup.of(
        settings.feedback, consent=settings.consent, tasks=settings.tasks, calendar=settings.cases.calendar.calendar(),
        cases=settings.cases, survivorship=settings.survivorship,
        catalog=catalog or Catalog(settings.email.templates_dir),
        signing=cache(lambda: settings.secret_key or load_or_create_secret(settings.data_dir)),
        public_url=settings.email.public_url,
    )  # fmt: skip


def reports_audience(settings: Settings) -> Audience:
    """The customer segments of `[triggers] segments_file` (a bad file stops the start), for the reports' filter:
    the same definitions the rules on a schedule name."""
    path = segments_path(settings.triggers.segments_file, settings.data_dir)
    # Members are reused as long as a report's tile is fresh.
    return Audience.load(path, settings.survivorship, settings.reports.cache_seconds)


def trigger_engine(settings: Settings) -> TriggerEngine:
    """The engine of `[triggers] rules_dir`, by default DATA_DIR/rules (a folder that may come later)."""
    config = settings.triggers
    catalog = Catalog(settings.email.templates_dir)
    feedback = feedback_setup(settings, catalog)
    actions = Actions(
        catalog,
        settings.consent,
        settings.tasks,
        settings.cases.calendar.calendar(),
        settings.survivorship,
        feedback,
    )
    book = RuleBook(
        config.rules_dir or settings.data_dir / "rules",
        templates=frozenset(catalog.names()),
        surveys=frozenset(feedback.surveys),
        segments=conditions_of(load_segments(segments_path(config.segments_file, settings.data_dir))),
        reload_seconds=config.reload_seconds,
    )
    return TriggerEngine(book, actions, due_batch=config.due_batch, segment_page=config.segment_page)
