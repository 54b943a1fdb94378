"""What a funnel step is, written as text the API, the console and the CLI share; pure.

- `Application Started` — a tracked event (or page/screen) by name;
- `Application Started[product=mortgage]` — the same, only when its property `product` reads `mortgage`;
- `journey:apply_for_mortgage.income` — a journey step completed (`.started` and `.completed` are the journey's
  own start and completion).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from seamline.core.errors import FieldError, InvalidInput

MAX_STEPS = 10
BREAKDOWNS = ("channel", "device", "source")
_JOURNEY = re.compile(r"journey:([a-z0-9_]{1,64})\.([a-z0-9_]{1,64})")
_FILTERED = re.compile(r"(.{1,200})\[([A-Za-z0-9_]{1,64})=(.{0,200})\]", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a funnel: events by name (optionally by one property's value), or a journey's step."""

    kind: Literal["event", "journey"]
    name: str  # the event's name, or the journey's key
    step: str | None = None  # the journey's step (started, a step key, completed)
    key: str | None = None  # the property an event must carry…
    value: str | None = None  # …with this value, read as text

    @property
    def label(self) -> str:
        """The step as written."""
        if self.kind == "journey":
            return f"journey:{self.name}.{self.step}"
        return f"{self.name}[{self.key}={self.value}]" if self.key is not None else self.name


def parse_step(text: str) -> Step:
    """A step from its text; ValueError says what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError("a step is an event name or journey:KEY.STEP")
    if text.startswith("journey:"):
        found = _JOURNEY.fullmatch(text)
        if found is None:
            raise ValueError(f"{text[:80]!r}: write journey:KEY.STEP (a-z, 0-9, _), e.g. journey:open_account.identity")
        return Step("journey", found.group(1), found.group(2))
    if text.endswith("]"):
        filtered = _FILTERED.fullmatch(text)
        if filtered is None:
            raise ValueError(f"{text[:80]!r}: write NAME[property=value], the property a-z, 0-9, _")
        return Step("event", filtered.group(1).strip(), key=filtered.group(2), value=filtered.group(3))
    if len(text) > 200:
        raise ValueError("an event name has at most 200 characters")
    return Step("event", text)


def parse_steps(texts: Sequence[str], *, least: int = 2, field: str = "steps") -> list[Step]:
    """Every step, or InvalidInput naming each bad one by its index."""
    problems: list[FieldError] = []
    if not least <= len(texts) <= MAX_STEPS:
        problems.append(FieldError(field, "invalid", f"give {least} to {MAX_STEPS} steps, not {len(texts)}"))
    out: list[Step] = []
    for index, text in enumerate(texts):
        try:
            out.append(parse_step(text))
        except ValueError as exc:
            problems.append(FieldError(field, "invalid", str(exc), index))
    if problems:
        raise InvalidInput(problems, "the funnel's steps are not valid")
    return out


def check_breakdown(breakdown: str | None) -> str | None:
    """The breakdown asked for, or InvalidInput."""
    if breakdown is not None and breakdown not in BREAKDOWNS:
        raise InvalidInput(
            [FieldError("breakdown", "invalid", f"{breakdown[:40]!r} is not one of {', '.join(BREAKDOWNS)}")]
        )
    return breakdown
