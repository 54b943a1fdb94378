"""Builders of the errors tests: a communications log with runs, reports through the service."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external
from seamline.core.db import unit_of_work
from seamline.core.principal import Principal
from seamline.errors.policy import Policy, read_policy
from seamline.errors.service import Report, report_errors
from seamline.errors.views import ErrorView

AGENT = Principal(name="console:ada", kind="operator", scopes=frozenset(), surface="console")
POLICY: Policy = read_policy(None)


def log_run(
    engine: Engine,
    batch: str,
    count: int,
    *,
    template: str = "statement_ready",
    version: str = "1",
    source_system: str = "core-banking",
    first_profile: int = 1000,
    prefix: str | None = None,
) -> list[str]:
    """Log `count` communications of one run (one per profile id from `first_profile`); their public ids."""
    tag = prefix or f"{batch}-{template}-{version}"
    items = [
        ExternalCommunication(
            communication_id=f"{tag}-{i}",
            profile_id=first_profile + i,
            type="statement",
            channel="email",
            platform="print-house",
            template=template,
            template_version=version,
            batch=batch,
            source_system=source_system,
            address=f"p{first_profile + i}@example.com",
            fields={"balance": "100.00"},
        )
        for i in range(count)
    ]
    with unit_of_work(engine) as session:
        log_external(session, items)
    return [i.communication_id for i in items]


def report(engine: Engine, communication_ids: Sequence[str], field: str, **options: object) -> ErrorView:
    """Report one error through the service, as an agent on the console."""
    with unit_of_work(engine) as session:
        [view] = report_errors(
            session,
            POLICY,
            [Report(communication_ids, field, **options)],
            actor=AGENT,
            intake="console",  # type: ignore[arg-type]  # a plain string where a Literal is declared, as an edge passes it
        )
    return view
