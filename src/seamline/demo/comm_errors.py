"""The demo's communication errors: the November statements went out from the core-banking feed, and customers
called about them. One name was misspelt (the agent fixes it on the call), three balances were wrong (one problem,
with everyone else in the batch as its blast radius; an agent may correct a balance and re-send the statement), and
one statement went to the wrong person (a privacy breach with its 72-hour clock). The errors queue
(`/console/errors`) and the problem page show them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.core.principal import Principal
from seamline.errors.policy import Policy
from seamline.errors.service import Report, report_errors
from seamline.identity.service import IdentityContext, find_profile
from seamline.synthetic.people import Person

AGENT = Principal(name="console:agent", kind="operator", scopes=frozenset(), surface="console")
QC = Principal(name="cli:qc-sampling", kind="operator", scopes=frozenset(), surface="cli")
BATCH = "2026-11-statements"
STATEMENTS = 120  # customers the demo batch reached


def known_profiles(
    engine: Engine, identity: IdentityContext, people: Sequence[Person], n: int
) -> list[tuple[int, str]]:
    """Up to `n` demo customers the bank knows by email: (profile id, first name)."""
    found: list[tuple[int, str]] = []
    for person in people:
        if len(found) == n:
            break
        if not person.emails:
            continue
        with unit_of_work(engine, write=False) as session:
            try:
                pid = find_profile(session, f"email:{person.emails[0]}", identity).profile_id
            except (NotFound, ValueError):
                continue
        if all(pid != known for known, _name in found):
            found.append((pid, person.first_name))
    return found


def report_demo_errors(engine: Engine, policy: Policy, customers: Sequence[tuple[int, str]]) -> int:
    """Log the November statement batch for these customers and report the errors found in it; returns how many
    errors were reported (none when fewer than five customers are given)."""
    if len(customers) < 5:
        return 0
    sent = utcnow() - timedelta(days=3)
    # What each statement said (its template's fields), so an agent can correct a wrong balance and re-send it.
    shown = {1: "£12.40", 2: "£3.15", 3: "£0.98"}
    statements = [
        ExternalCommunication(
            f"demo-stmt-{i}",
            pid,
            "statement",
            "email",
            "print-house",
            template="statement_ready",
            template_version="1",
            batch=BATCH,
            source_system="core-banking",
            subject="Your November statement",
            occurred_at=sent,
            fields={
                "first_name": first_name,
                "product_name": "Current account",
                "balance": shown.get(i, f"£{100 + i}.00"),
            },
        )
        for i, (pid, first_name) in enumerate(customers)
    ]
    with unit_of_work(engine) as session:
        log_external(session, statements)
    ids = [s.communication_id for s in statements]
    name = customers[0][1]
    misspelt = name[:-1] + name[-1] * 2 if name else "?"
    reports = [
        (AGENT, Report([ids[0]], "first_name", misspelt, name, "The customer called: the name is misspelt")),
        (AGENT, Report([ids[1]], "balance", "£12.40", "£1,240.00", "Statement shows a balance 100 times too small")),
        (QC, Report([ids[2]], "balance", "£3.15", "£315.00", None, external_ref="qc-2026-11-0007")),
        (QC, Report([ids[3]], "balance", "£0.98", "£98.00", None, external_ref="qc-2026-11-0012")),
        (AGENT, Report([ids[4]], "recipient", "another customer's statement", "their own statement",
                       "The customer received a statement addressed to someone else")),
    ]  # fmt: skip
    made = 0
    for actor, report in reports:
        with unit_of_work(engine) as session:
            intake = "console" if actor is AGENT else "import"
            made += len(report_errors(session, policy, [report], actor=actor, intake=intake))
    return made
