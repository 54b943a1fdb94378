"""Dates as silo exports write them, read into ISO (YYYY-MM-DD). Pure: text and a declared format in, a date out.

ISO and YYYYMMDD are unambiguous and read without a declaration; 03/04/1980 is the 3rd of April in one country
and the 4th of March in another, so slashed and dotted dates are read only in the order the mapping declares
(`day-first` or `month-first`). A value that is not a real date in its format is an error of its row, reported
with its line and column: imported as text, it would be a missing value to matching, which then finds nothing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final, Literal

DateFormat = Literal["auto", "iso", "yyyymmdd", "day-first", "month-first"]
DATE_FORMATS: Final = ("auto", "iso", "yyyymmdd", "day-first", "month-first")
# Trait names that hold a date of birth: read as dates (format "auto") even when the mapping does not say so.
BIRTH_DATE_TRAITS: Final = frozenset({"date_of_birth", "birthday", "birth_date", "dob"})

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SEPARATED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YEAR_FIRST_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


def _real(year: str, month: str, day: str) -> str | None:
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def parse_date(raw: str, fmt: DateFormat = "auto") -> str | None:
    """The ISO date a cell holds in the format, or None when it is not a real date in it."""
    text = raw.strip()
    if fmt in ("auto", "iso"):
        for pattern in (_ISO, _YEAR_FIRST_SLASHED):
            found = pattern.match(text)
            if found:
                return _real(*found.groups())
    if fmt in ("auto", "yyyymmdd"):
        found = _COMPACT.match(text)
        if found:
            return _real(*found.groups())
    if fmt in ("day-first", "month-first"):
        found = _SEPARATED.match(text)
        if found:
            first, second, year = found.groups()
            day, month = (first, second) if fmt == "day-first" else (second, first)
            return _real(year, month, day)
        found = _ISO.match(text)  # an ISO date is unambiguous in any declared order
        if found:
            return _real(*found.groups())
    return None


def describe(fmt: DateFormat) -> str:
    """The format in words, for an error message."""
    return {
        "auto": "YYYY-MM-DD or YYYYMMDD (declare day-first or month-first under `dates` for 31/12/1980)",
        "iso": "YYYY-MM-DD",
        "yyyymmdd": "YYYYMMDD",
        "day-first": "DD/MM/YYYY",
        "month-first": "MM/DD/YYYY",
    }[fmt]
