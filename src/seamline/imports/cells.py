"""What a row's cells must be to mean what the mapping says they mean: an email column holds an email address, a
phone column a phone number, a date column a date. Pure: values in, problems out (every one of the row's).

Emails and phones are judged by the normalizers the worker resolves identifiers with (email-validator,
phonenumbers), so a value the import accepts is one identity will use, and one it refuses would have been dropped
or kept as a meaningless trait. A date is read by a `DateParser`: ISO 8601 unless a column's format says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from seamline.identity.identifiers import normalize_email, normalize_phone
from seamline.identity.rules import IdentityConfig
from seamline.imports.mapping import ImportMapping

# Reads a cell's text as a date; raises ValueError when it is not one.
DateParser = Callable[[str], date]
# Traits that hold dates in the canonical vocabulary and in the silos' own spellings the matcher reads.
DATE_TRAITS = ("birthday", "date_of_birth", "dob")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(text: str) -> date:
    """A date in ISO 8601 (2026-01-31), or the date part of an ISO 8601 time (a typed cell of Parquet or SQL
    arrives as one); ValueError otherwise."""
    # Python's fromisoformat also reads loose forms ("18151210.5" is 1815-12-10): the calendar date comes first.
    if not _ISO_DAY.match(text) or (len(text) > 10 and text[10] not in "T "):
        raise ValueError(f"{text!r} is not YYYY-MM-DD")
    return datetime.fromisoformat(text).date() if len(text) > 10 else date.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class CellRules:
    """What to check: the kind (email, phone) of each identifier type, the phone region, and the date traits with
    the parser of each (a mapping that declares a column's date format gives its own parser here)."""

    kinds: Mapping[str, str] = field(default_factory=dict)
    region: str = "US"
    dates: Mapping[str, DateParser] = field(default_factory=lambda: dict.fromkeys(DATE_TRAITS, iso_date))

    @classmethod
    def of(cls, identity: IdentityConfig, dates: Mapping[str, DateParser] | None = None) -> CellRules:
        """The rules the identity configuration implies (its email and phone types, its default region)."""
        kinds = {rule.type: rule.kind for rule in identity.identifiers if rule.kind != "plain"}
        return cls(kinds, identity.default_region, dates if dates is not None else dict.fromkeys(DATE_TRAITS, iso_date))


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # not a scalar: the mapping's own checks name it
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def identifier_problem(kind: str, name: str, column: str, value: Any, region: str) -> str | None:
    """Why a cell is not the email or phone the mapping says it is, or None."""
    text = _text(value)
    if text is None:
        return None
    if kind == "email" and normalize_email(text) is None:
        return f"{name} (column {column!r}): {text!r} is not a valid email address"
    if kind == "phone" and normalize_phone(text, region) is None:
        return f"{name} (column {column!r}): {text!r} is not a valid phone number (default region {region})"
    return None


def date_problem(name: str, column: str, value: Any, parse: DateParser = iso_date) -> str | None:
    """Why a cell is not a date `parse` can read, or None (empty cells state nothing)."""
    if value is None or value == "":
        return None
    text = _text(value)
    try:
        if text is None:
            raise ValueError(text)
        parse(text)
    except ValueError:
        form = " (YYYY-MM-DD)" if parse is iso_date else ""
        return f"{name} (column {column!r}): {str(value)[:100]!r} is not a date{form}"
    return None


def cell_problems(row: Mapping[str, Any], mapping: ImportMapping, rules: CellRules) -> list[str]:
    """Every problem of the row's email, phone and date cells, in the mapping's order."""
    found: list[str | None] = []
    for kind, column in mapping.identifiers.items():
        if kind in rules.kinds:
            found.append(identifier_problem(rules.kinds[kind], kind, column, row.get(column), rules.region))
    for name, column in mapping.traits.items():
        value = row.get(column)
        if name in rules.kinds:  # a trait named like an identifier (traits.email) is one to identity
            found.append(identifier_problem(rules.kinds[name], name, column, value, rules.region))
        if name in rules.dates and mapping.date_format(name) is None:
            # A date the mapping reads (declared, or a birth date) is checked as it is read, in its own format.
            found.append(date_problem(name, column, value, rules.dates[name]))
    return [p for p in found if p is not None]
