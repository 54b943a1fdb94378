"""The snapshot of what an answer rates, copied at send time: the case and its agent, the journey and its step, the
communication, the visit, and how the customer was named. Later changes to any of them never rewrite it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.config import CasesConfig
from seamline.cases.service import get_case
from seamline.communications.service import view as communication_view
from seamline.core.clock import isoformat_z
from seamline.core.errors import NotFound
from seamline.journeys.service import instance_or_none
from seamline.profiles.service import golden_traits
from seamline.profiles.survivorship import SurvivorshipConfig

NAME_TRAITS = ("first_name", "firstName", "name")
# What else a touchpoint's event may say about itself (a branch visit's branch and staff member), copied as text.
CONTEXT_KEYS = ("branch", "staff", "agent", "service", "location", "step", "journey", "reason", "channel", "product")
MAX_TEXT = 200


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) <= 18 else None


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


def _case(session: Session, cases: CasesConfig, case_id: int) -> dict[str, Any]:
    try:
        case = get_case(session, cases, case_id)
    except NotFound:
        return {"id": case_id, "is_missing": True}
    return {
        "id": case.id, "subject": case.subject, "status": case.status, "queue": case.queue, "channel": case.channel,
        "priority": case.priority, "agent": case.assignee, "opened_at": _iso(case.opened_at),
        "resolved_at": _iso(case.resolved_at),
    }  # fmt: skip


def _journey(session: Session, instance_id: str, step: Any) -> dict[str, Any]:
    found = instance_or_none(session, instance_id)
    if found is None:
        return {"instance_id": instance_id, "is_missing": True}
    return {
        "instance_id": found.public_id, "journey": found.journey, "status": found.status,
        "step": str(step)[:64] if isinstance(step, str) and step else found.current_step,
        "started_channel": found.started_channel,
    }  # fmt: skip


def _communication(session: Session, communication_id: str) -> dict[str, Any]:
    try:
        found = communication_view(session, communication_id)
    except NotFound:
        return {"communication_id": communication_id, "is_missing": True}
    return {
        "communication_id": found.communication_id, "type": found.type, "template": found.template,
        "channel": found.channel, "campaign": found.campaign, "subject": found.subject, "status": found.status,
    }  # fmt: skip


def take_snapshot(
    session: Session,
    profile_id: int,
    touchpoint: str,
    about: Mapping[str, Any],
    *,
    cases: CasesConfig,
    survivorship: SurvivorshipConfig,
    now: datetime,
) -> dict[str, Any]:
    """A JSON copy of what a survey at `touchpoint` asks about; `about` holds the touchpoint's ids (`case_id`,
    `instance_id`, `communication_id`) and what its event said (`branch`, `staff`, …)."""
    traits = {t.name: t.value for t in golden_traits(session, profile_id, {}, survivorship)}
    name = next((str(traits[n]) for n in NAME_TRAITS if isinstance(traits.get(n), str) and traits[n]), None)
    snapshot: dict[str, Any] = {"touchpoint": touchpoint, "taken_at": isoformat_z(now), "customer": {"name": name}}
    if (case_id := _int(about.get("case_id"))) is not None:
        snapshot["case"] = _case(session, cases, case_id)
    if isinstance(about.get("instance_id"), str) and about["instance_id"]:
        snapshot["journey"] = _journey(session, str(about["instance_id"])[:64], about.get("step"))
    if isinstance(about.get("communication_id"), str) and about["communication_id"]:
        snapshot["communication"] = _communication(session, str(about["communication_id"])[:100])
    context = {k: str(about[k])[:MAX_TEXT] for k in CONTEXT_KEYS if isinstance(about.get(k), str | int | float)}
    if context:
        snapshot["context"] = context
    agent = (snapshot.get("case") or {}).get("agent") or context.get("agent") or context.get("staff")
    snapshot["agent"] = agent
    return snapshot


def grouping(snapshot: Mapping[str, Any]) -> dict[str, str | None]:
    """The columns the rollups group an answer by, read out of its snapshot."""
    journey = snapshot.get("journey") or {}
    step = f"{journey.get('journey')}/{journey.get('step')}" if journey.get("journey") else None
    agent = snapshot.get("agent")
    kind = (snapshot.get("communication") or {}).get("type")
    return {
        "agent": str(agent)[:200] if agent else None,
        "journey_step": step[:130] if step else None,
        "communication_type": str(kind)[:32] if kind else None,
    }
