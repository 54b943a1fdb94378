"""Customer segments: named golden-record conditions, written once and read by every part that needs a segment —
a rule on a schedule (`on: {schedule: 1d, segment: affluent}`) and the reports' segment filter. Pure: a YAML text
in, segments (or errors naming file, line and field) out. See docs/triggers.md.

The conditions are a scheduled rule's `on.traits`, in the same language and read by the same reader, so a segment
written for a rule and one written for the reports cannot drift apart:

```yaml
# DATA_DIR/segments.yaml
affluent:
  title: Affluent customers
  traits: {segment: affluent}            # the decision point's segment trait ([decisions] segment_trait)
young-savers:
  title: Savers under 30
  traits: {age: {lt: 30}, savings_balance: {gte: 1000}}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from seamline.core.yamlfile import load_mapping
from seamline.triggers.rules import Condition, RuleError, _Reader

SEGMENT_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
# Names the reports' filters already give a meaning (`segment=product` was the product split's old spelling).
RESERVED = frozenset({"product"})
_SPEC = {"title", "description", "traits"}


class SegmentError(RuleError):
    """A segments file that cannot be used: `file`, `line` and `field` say where."""


@dataclass(frozen=True, slots=True)
class Segment:
    """Every person whose golden record meets all of `conditions` (paths `traits.NAME`)."""

    key: str
    title: str
    conditions: tuple[Condition, ...]
    description: str = ""

    @property
    def trait_names(self) -> frozenset[str]:
        return frozenset(c.path.removeprefix("traits.") for c in self.conditions)


def parse_segments(text: str, file: str) -> dict[str, Segment]:
    """The segments of a YAML text, by key, in file order; SegmentError at the first problem."""
    reader = _Reader(file)
    reader.error = SegmentError
    raw = load_mapping(text, file, SegmentError, "segments", "a segments file maps each segment's name to its traits")
    out: dict[str, Segment] = {}
    for key in raw:
        if not SEGMENT_KEY.fullmatch(key) or key in RESERVED:
            raise reader.fail(raw, key, key, "1-64 of a-z 0-9 _ -, starting with a letter (not 'product')")
        spec = reader.mapping(raw, key, key, _SPEC)
        conditions = reader.conditions(spec, "traits", f"{key}.traits", "traits.")
        if not conditions:
            raise reader.fail(spec, "traits" if "traits" in spec else None, f"{key}.traits",
                              "a segment needs the golden-record conditions of its members")  # fmt: skip
        title = spec.get("title", key)
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            raise reader.fail(spec, "title", f"{key}.title", "text of at most 200 characters")
        out[key] = Segment(key, title.strip(), conditions, str(spec.get("description", "")))
    return out


def load_segments(path: Path | None) -> dict[str, Segment]:
    """The segments of a file; none when there is no file (segments are optional)."""
    if path is None or not path.is_file():
        return {}
    return parse_segments(path.read_text(encoding="utf-8"), str(path))


def conditions_of(segments: Mapping[str, Segment]) -> dict[str, tuple[Condition, ...]]:
    """Each segment's conditions, by key: what a rule naming a segment is parsed with."""
    return {k: s.conditions for k, s in segments.items()}
