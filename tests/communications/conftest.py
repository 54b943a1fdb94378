"""Fixtures of the communications tests: a loopback SMTP server, settings that send to it, people with addresses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from seamline.communications.config import EmailConfig
from seamline.communications.service import CommunicationView, queue_message
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.outbox.config import OutboxConfig
from seamline.preferences.service import unsubscribe_link
from seamline.worker.dispatcher import Dispatcher, build_dispatcher
from tests.support.smtp import Mailbox, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as served:
        yield served


@pytest.fixture
def mail_settings(settings: Settings, smtp: tuple[Mailbox, int]) -> Settings:
    """Settings whose email goes to the loopback server, and whose retries come at once (two, then dead)."""
    return settings.model_copy(
        update={
            "email": EmailConfig(smtp_port=smtp[1], public_url="https://bank.example"),
            "outbox": OutboxConfig(retry_schedule_seconds=[0.0, 0.0], jitter=0.0, idle_seconds=0.05),
        }
    )


def dispatcher_for(engine: Engine, settings: Settings) -> Dispatcher:
    return build_dispatcher(engine, settings, unsubscribe_url=unsubscribe_link(settings))


def deliver(engine: Engine, settings: Settings) -> int:
    """Run a dispatcher until nothing is due, then close its connections; returns how many it settled."""
    runner = dispatcher_for(engine, settings)
    try:
        return runner.drain()
    finally:
        runner.stop()


def queue(
    engine: Engine, settings: Settings, profile_id: int, template: str, data: dict[str, Any], **options: Any
) -> CommunicationView:
    with unit_of_work(engine) as session:
        view, _created = queue_message(
            session,
            profile_id,
            template,
            data,
            catalog=Catalog(settings.email.templates_dir),
            consent=settings.consent,
            **options,
        )
    return view
