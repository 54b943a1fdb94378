"""The customer page's parts as values: the preference grid, the summary above the fold, traits and the timeline as
an agent reads them (national ids masked unless revealed, events in words). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from seamline.consent.policy import Preferences
from seamline.console.labels import trait_label
from seamline.console.masking import is_national_id, mask, masked
from seamline.console.timeline_words import describe, is_system_event
from seamline.profiles.service import TraitView
from seamline.profiles.vocabulary import address_text

SUMMARY_TRAITS = ("email", "phone", "birthday", "address", "city", "national_id")
SUMMARY_HOLDINGS = 5
LAST_CONTACTS = 4


@dataclass(frozen=True, slots=True)
class Cell:
    answer: str
    css: str
    reasons: str


@dataclass(frozen=True, slots=True)
class PreferenceRow:
    """One purpose (customer-wide, or a product whose answers differ), its answer per channel."""

    subject: str
    scope: str
    cells: tuple[Cell, ...]


def preference_rows(preferences: Preferences, channels: list[str]) -> list[PreferenceRow]:
    """A compact grid: each purpose customer-wide, plus only the products whose answers differ from it."""
    by_purpose: dict[str, dict[str | None, dict[str, Cell]]] = {}
    for (purpose, channel, topic), per_product in preferences.consent.items():
        if topic is not None:
            continue  # topics show on the ledger; the grid answers the everyday question
        for product, decision in per_product.items():
            cell = Cell(
                "allowed" if decision.allowed else "not allowed",
                "granted" if decision.allowed else "denied",
                "; ".join(decision.reasons),
            )
            by_purpose.setdefault(purpose, {}).setdefault(product, {})[channel] = cell
    rows = []
    for purpose, grid in sorted(by_purpose.items()):
        wide = grid.get(None, {})
        for product, cells in sorted(grid.items(), key=lambda item: (item[0] is not None, item[0] or "")):
            answers = [cells.get(c) for c in channels]
            if product is not None and [a.answer if a else "" for a in answers] == [
                wide[c].answer if c in wide else "" for c in channels
            ]:
                continue
            rows.append(
                PreferenceRow(
                    purpose,
                    "customer-wide" if product is None else f"product {product}",
                    tuple(a or Cell("—", "", "") for a in answers),
                )
            )
    for document_type, per_doc in sorted(preferences.delivery.items()):
        delivery = per_doc.get(None)
        if delivery is not None:
            cell = Cell(delivery.value, "", "; ".join(delivery.reasons))
            rows.append(PreferenceRow(f"delivery of {document_type}", "customer-wide", (cell,)))
    return rows


@dataclass(frozen=True, slots=True)
class PurposeLine:
    """One purpose in a sentence: the channels it may use, and those it may not."""

    purpose: str
    allowed: tuple[str, ...]
    refused: tuple[str, ...]


def preference_lines(rows: Sequence[PreferenceRow], channels: Sequence[str]) -> list[PurposeLine]:
    """The customer-wide consent rows as 'marketing: email, post — not sms' for the summary."""
    out = []
    for row in rows:
        if row.scope != "customer-wide" or len(row.cells) != len(channels) or row.subject.startswith("delivery"):
            continue
        allowed = tuple(c for c, cell in zip(channels, row.cells, strict=True) if cell.css == "granted")
        refused = tuple(c for c, cell in zip(channels, row.cells, strict=True) if cell.css == "denied")
        out.append(PurposeLine(row.subject, allowed, refused))
    return out


def shown_value(name: str, value: Any, *, reveal: bool) -> str:
    """A trait value as text for the page: a national id masked unless revealed."""
    if isinstance(value, Mapping):
        return address_text(value)  # the one structured address, on one line
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return mask(text) if is_national_id(name) and not reveal else text


def trait_rows(traits: Sequence[TraitView], *, reveal: bool) -> list[dict[str, Any]]:
    """The golden record as the template shows it, each value and alternative masked where it must be."""
    rows = []
    for t in traits:
        secret = is_national_id(t.name) and not reveal
        rows.append(
            {
                "name": t.name,
                "label": t.label or trait_label(t.name),
                "source_field": t.decision.winner.source_field,
                "value": shown_value(t.name, t.value, reveal=reveal),
                "is_masked": secret,
                "decision": t.decision,
                "alternatives": [
                    {
                        "value": mask(str(orjson.loads(c.value_json))) if secret else c.value_json,
                        "source": c.source,
                        "source_field": c.source_field,
                        "last_seen_at": c.last_seen_at,
                        "times_seen": c.times_seen,
                    }
                    for c in t.decision.alternatives
                ],
            }
        )
    return rows


def who(traits: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(label, value) of the traits an agent confirms first, in that order."""
    by_name = {str(t["name"]).lower().replace("_", ""): t for t in traits}
    out = []
    for name in SUMMARY_TRAITS:
        row = by_name.get(name.replace("_", ""))
        if row is not None and row["value"]:
            out.append((str(row["label"]), str(row["value"])))
    return out


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    occurred_at: datetime
    type: str
    words: str
    channel: str | None
    source: str
    is_system: bool
    message: Any


def timeline_entry(
    occurred_at: datetime,
    event_type: str,
    name: str | None,
    channel: str | None,
    source: str,
    message: Mapping[str, Any],
    *,
    reveal: bool,
) -> TimelineEntry:
    """One timeline row: its sentence, and the raw message (national ids masked unless revealed)."""
    return TimelineEntry(
        occurred_at,
        event_type,
        describe(event_type, name, message),
        channel,
        source,
        is_system_event(event_type),
        message if reveal else masked(message),
    )
