"""The console's routes under /console, and its stylesheet."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from seamline.console import (
    actions,
    admin,
    analytics,
    case_actions,
    cases,
    communications,
    customer,
    errors_queue,
    feedback,
    journeys,
    matches,
    outbox,
    problems,
    reports,
    shell,
    tasks,
)

STATIC = Path(__file__).parent / "static"
PAGES = (
    shell, customer, cases, case_actions, journeys, tasks, matches, admin, outbox, errors_queue, problems, feedback,
)  # fmt: skip


def mount_console(app: FastAPI) -> None:
    """Add the console's pages and its static files (public: a stylesheet holds no personal data)."""
    for module in (*PAGES, actions, communications, analytics, reports):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
