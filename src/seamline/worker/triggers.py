"""The trigger engine a worker runs, built from the settings: the rule folder, templates, consent, tasks' clock."""

from __future__ import annotations

from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.triggers.actions import Actions
from seamline.triggers.book import RuleBook
from seamline.triggers.service import TriggerEngine


def trigger_engine(settings: Settings) -> TriggerEngine:
    """The engine of `[triggers] rules_dir`, by default DATA_DIR/rules (a folder that may come later)."""
    config = settings.triggers
    catalog = Catalog(settings.email.templates_dir)
    actions = Actions(
        catalog, settings.consent, settings.tasks, settings.cases.calendar.calendar(), settings.survivorship
    )
    book = RuleBook(
        config.rules_dir or settings.data_dir / "rules",
        templates=frozenset(catalog.names()),
        reload_seconds=config.reload_seconds,
    )
    return TriggerEngine(book, actions, due_batch=config.due_batch)
