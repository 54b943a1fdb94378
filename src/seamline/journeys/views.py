"""How callers see an instance: its steps in order with what was given in each, by whom and through what, the
SLA clock of a step waiting on a person, and the prefill of a step (what the golden record already knows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.sla import BusinessCalendar
from seamline.core.errors import NotFound
from seamline.journeys import progress, service
from seamline.journeys.definitions import JourneyDef
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.profiles.service import golden_traits
from seamline.profiles.survivorship import SurvivorshipConfig


def _where(entry: JourneyEntry) -> dict[str, Any]:
    return {
        "channel": entry.channel,
        "device": entry.device,
        "by": entry.actor_kind,
        "agent": entry.actor if entry.actor_kind == "agent" else None,
        "at": service.iso(entry.at),
    }


@dataclass(frozen=True, slots=True)
class InstanceView:
    """An instance and its definition, read over every instance joined into it."""

    row: JourneyInstance
    definition: JourneyDef
    state: service.State

    def step_view(self, key: str, calendar: BusinessCalendar, now: datetime) -> dict[str, Any]:
        step = self.definition.step(key)
        assert step is not None
        done = self.state.done.get(key)
        fields = []
        for f in step.fields:
            given = self.state.given.get(f.key)
            fields.append(
                {
                    "key": f.key,
                    "trait": f.trait,
                    "required": f.required,
                    "value": given[1] if given else None,
                    "given": _where(given[2]) if given else None,
                }
            )
        clock = None
        if key == self.row.current_step and self.row.status in progress.RESUMABLE:
            found = progress.step_clock(step, calendar, since=self.row.step_since, done_at=None, now=now)
            clock = found.as_dict() if found else None
        return {
            "key": step.key,
            "name": step.name,
            "optional": step.optional,
            "agent_allowed": step.agent,
            "applies": progress.applies(step, self.state.values),
            "status": "completed" if done else ("current" if key == self.row.current_step else "pending"),
            "completed": _where(done) if done else None,
            "fields": fields,
            "sla": clock,
        }

    def as_dict(self, calendar: BusinessCalendar, now: datetime) -> dict[str, Any]:
        row = self.row
        return {
            "instance_id": row.public_id,
            "journey": row.journey,
            "name": self.definition.name,
            "profile_id": row.profile_id,
            "status": row.status,
            "current_step": row.current_step,
            "started_at": service.iso(row.started_at),
            "started_channel": row.started_channel,
            "last_activity_at": service.iso(row.last_activity_at),
            "completed_at": service.iso(row.completed_at),
            "steps": [self.step_view(s.key, calendar, now) for s in self.definition.steps],
        }


def view_of(session: Session, row: JourneyInstance, definitions: Mapping[str, JourneyDef]) -> InstanceView:
    definition = definitions.get(row.journey)
    if definition is None:
        raise NotFound(f"the journey {row.journey!r} is no longer defined")
    return InstanceView(service.keeper_of(session, row), definition, service.state_of(session, row))


def prefill(
    session: Session,
    view: InstanceView,
    step_key: str,
    *,
    survivorship: SurvivorshipConfig,
    source_names: Mapping[int, str],
    now: datetime,
) -> list[dict[str, Any]]:
    """For each field of a step: the value already known (given in this journey, else the golden record's), where
    it came from and how old it is; `known: false` when the form must ask for it."""
    step = view.definition.step(step_key)
    if step is None:
        return []
    traits = {t.name: t for t in golden_traits(session, view.row.profile_id, source_names, survivorship)}
    out: list[dict[str, Any]] = []
    for f in step.fields:
        given = view.state.given.get(f.key)
        trait = traits.get(f.trait) if f.trait else None
        if given is not None:
            entry = given[2]
            known: dict[str, Any] = {
                "value": given[1],
                "from": "journey",
                "source": entry.channel,
                "at": service.iso(entry.at),
            }
            age = (now - entry.at).total_seconds()
        elif trait is not None:
            winner = trait.decision.winner
            known = {
                "value": trait.value,
                "from": "profile",
                "source": winner.source,
                "at": service.iso(winner.last_seen_at),
            }
            age = (now - winner.last_seen_at).total_seconds()
        else:
            out.append({"key": f.key, "trait": f.trait, "required": f.required, "known": False})
            continue
        out.append(
            {
                "key": f.key,
                "trait": f.trait,
                "required": f.required,
                "known": True,
                **known,
                "age_days": round(age / 86400, 1),
            }
        )
    return out
