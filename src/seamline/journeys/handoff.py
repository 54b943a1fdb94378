"""What a case handing over a journey says first: the journey, where it stands, what the customer already gave
(and through what), and what is left, in the words of a handoff summary. Pure: an instance view in, text out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seamline.journeys.views import InstanceView

MAX_TEXT = 4000  # the cases' limit of a handoff field


@dataclass(frozen=True, slots=True)
class JourneyHandoff:
    """A case's subject and the first version of its handoff summary, taken from a journey."""

    subject: str
    step: str | None
    customer_said: str
    tried: str
    next_step: str


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def handoff_of(view: InstanceView) -> JourneyHandoff:
    """The handoff of a journey taken over at its current step."""
    definition, row, state = view.definition, view.row, view.state
    current = definition.step(row.current_step) if row.current_step else None
    given = []
    for step in definition.steps:
        for field in step.fields:
            found = state.given.get(field.key)
            if found is not None:
                entry = found[2]
                where = entry.channel + (f" ({entry.device})" if entry.device else "")
                given.append(f"{step.name} · {field.key}: {_shown(found[1])} — {where}")
    done = []
    for step in definition.steps:
        completed = state.done.get(step.key)
        if completed is not None:
            by = f" by agent {completed.actor}" if completed.actor_kind == "agent" else ""
            done.append(f"{step.name} — done through {completed.channel}{by}")
    if current is None:
        next_step = f"The journey is {row.status}."
    elif current.agent:
        next_step = f"Complete “{current.name}” with the customer (agents may), from the customer page."
    else:
        next_step = f"Help the customer complete “{current.name}” themself (agents may not complete it)."
    at = current.name if current else row.status
    return JourneyHandoff(
        subject=f"{definition.name}: help at “{at}”"[:300],
        step=row.current_step,
        customer_said=("Already given in the journey:\n" + "\n".join(given) if given else "Nothing given yet.")[
            :MAX_TEXT
        ],
        tried=("Steps done:\n" + "\n".join(done) if done else "No step done yet.")[:MAX_TEXT],
        next_step=next_step,
    )
