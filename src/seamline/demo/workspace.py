"""Creating the demo workspace on an empty database, through the paths users use."""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.principal import Principal
from seamline.demo.bank import DEMO_SEED, channel_traffic, demo_people
from seamline.demo.comm_errors import STATEMENTS, known_profiles, report_demo_errors
from seamline.demo.communications import communication_events, import_print_log, print_send_log
from seamline.demo.decisions import decision_traffic
from seamline.demo.feed import send, wait_until_ready
from seamline.demo.feedback import survey_demo_customers
from seamline.demo.funnel import funnel_traffic
from seamline.demo.journey_history import journey_history
from seamline.demo.journeys import load_demo_journeys, start_demo_journeys
from seamline.demo.messages import queue_demo_messages
from seamline.demo.moments import install_rules, moments_traffic
from seamline.demo.privacy import open_privacy_requests
from seamline.demo.reports import save_demo_reports
from seamline.demo.segments import install_segments, segment_traffic
from seamline.demo.silos import import_silos
from seamline.demo.sources import create_demo_sources
from seamline.demo.stories import open_conversations
from seamline.errors.policy import read_policy
from seamline.identity.service import IdentityContext
from seamline.ingestion.service import backlog
from seamline.matching.records import MatchingContext
from seamline.matching.service import RunSummary, run_batch
from seamline.pipeline.registry import Pipeline
from seamline.synthetic.people import Person
from seamline.users.service import create_user

# The bank's staff: who a newcomer logs in as.
DEMO_USERS = (
    ("alex", "agent", "Alex Agent"),
    ("sam", "supervisor", "Sam Supervisor"),
    ("admin", "admin", "Admin"),
    ("cora", "communications", "Cora Communications"),  # owns what the bank sends: the Communications area
)
_SETUP = Principal(name="demo", kind="operator", scopes=frozenset(), surface="cli")


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    role: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """What a first start created, and what is still to send once the server answers."""

    keys: dict[str, str]
    logins: list[Login]
    bridge_key: str
    people: list[Person]
    silo_rows: int
    traffic: list[tuple[str, dict[str, Any]]]


def create_demo_workspace(engine: Engine, settings: Settings) -> DemoWorkspace | None:
    """On an empty workspace, create the demo bank; None when the workspace already has sources."""
    with unit_of_work(engine) as session:
        keys = create_demo_sources(session)
        if not keys:
            return None
        logins = []
        for username, role, name in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user = create_user(
                session, username, role, password, display_name=name, actor=_SETUP, config=settings.console
            )
            logins.append(Login(username, role, password))
            if role == "communications":
                save_demo_reports(session, user)  # a saved, shared and scheduled report (console: Reports)
        _view, bridge_key = create_api_key(session, "demo-chat-and-email", ["cases:read", "cases:write"])
    load_demo_journeys(engine)
    people = demo_people()
    # The silo exports go into the inbox now; the worker resolves them once the server runs.
    rows = import_silos(engine, people, DEMO_SEED, settings.data_dir / "demo")
    install_rules(settings.data_dir / "rules")  # the moments that go to a person (seamline.demo.moments)
    install_segments(settings.data_dir)  # customer segments the reports filter by (seamline.demo.segments)
    now = utcnow()
    traffic = [
        *channel_traffic(people, now), *moments_traffic(people, now), *decision_traffic(people, now),
        *funnel_traffic(people, now),  # a mortgage application funnel (console: Reports → Funnels)
        *journey_history(people, now),  # weeks of journeys, some stopped (console: Communications → Bottlenecks)
        *segment_traffic(people, now),  # who is a premier customer (console: Reports, "Customer segment")
    ]  # fmt: skip
    return DemoWorkspace(keys, logins, bridge_key, people, rows, traffic)


def wait_for_worker(engine: Engine, timeout: float = 300.0) -> bool:
    """Wait until the worker has processed every accepted event; False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work(engine, write=False) as session:
            if backlog(session) == 0:
                return True
        time.sleep(0.2)
    return False


def match_silos(engine: Engine, settings: Settings) -> RunSummary:
    """Train a matching model on the profiles the silos and channels made, and run it: sure matches merge through
    the identity graph, uncertain ones wait for a supervisor's review."""
    identity = Pipeline(settings.identity, settings.consent, settings.traits)
    context = MatchingContext.build(settings.matching, identity, settings.survivorship, settings.data_dir)
    # A small bank leaves some comparison levels unseen in training; Splink warns once per level, which in a
    # newcomer's first run reads like something broke.
    logging.getLogger("splink").setLevel(logging.ERROR)
    with unit_of_work(engine) as session:
        return run_batch(session, context)


def play(workspace: DemoWorkspace, base_url: str, engine: Engine, settings: Settings) -> str:
    """Once the server answers: send the channel traffic, let the worker resolve it and the silo imports, match
    the silos, then the customers' conversations."""
    if not wait_until_ready(base_url):
        return "demo: the server did not answer; no traffic sent"
    accepted = send(base_url, workspace.keys, workspace.traffic)
    if not wait_for_worker(engine):
        return f"demo: {accepted:,} events sent; the worker has not finished them (is it running?)"
    matched = match_silos(engine, settings)
    wait_for_worker(engine)
    agent = next(login.username for login in workspace.logins if login.role == "agent")
    cases = open_conversations(base_url, workspace.bridge_key, engine, settings.cases, workspace.people, agent)
    pipeline = Pipeline(settings.identity, settings.consent, settings.traits)
    requests = open_privacy_requests(engine, pipeline, workspace.people)
    journeys = start_demo_journeys(engine, pipeline, workspace.people)
    customers = known_profiles(engine, pipeline, workspace.people[len(workspace.people) // 2 :], STATEMENTS)
    errors = report_demo_errors(engine, read_policy(settings.errors.policy_file), customers)
    messages = queue_demo_messages(engine, settings, pipeline, workspace.people)
    others = known_profiles(engine, pipeline, workspace.people[40 : len(workspace.people) // 2], 30)
    surveys, answers = survey_demo_customers(engine, settings, [pid for pid, _ in customers], [p for p, _ in others])
    # The other platforms' sends, reported by their events and the print vendor's log: the Communications area.
    told = send(base_url, workspace.keys, communication_events(workspace.people, utcnow()))
    wait_for_worker(engine)
    printed = import_print_log(engine, IdentityContext(settings.identity), print_send_log(workspace.people, utcnow()))
    return (
        f"demo: {workspace.silo_rows:,} silo records imported and {accepted:,} web, app, call-center and product "
        f"events resolved; matching merged {matched.merges} pairs and sent {matched.reviews} to review "
        f"({matched.id_typos + matched.id_differs} of them with national ids that differ: `seamline match findings`); "
        f"{cases} customer conversations; {journeys} customers part-way through a journey (console: Journeys); "
        f"{requests} data-subject requests waiting (`seamline privacy list`); "
        f"{errors} communication errors reported (/console/errors); "
        f"{messages} messages queued (in-app and SMS fraud alerts); "
        f"{surveys} surveys sent and {answers} answered (console: Feedback); "
        f"{told:,} communication events from five platforms and {printed.added:,} printed letters in the "
        "communications log (console: Communications)"
    )
