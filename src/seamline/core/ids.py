"""Ids as the database stores them: 64-bit signed integers (BIGINT), checked where they come in from outside.

A number no row can have must be refused as input, not handed to the driver: SQLite raises OverflowError and
PostgreSQL an out-of-range error for it, and either was a 500. `Id` bounds a path, query or body field of any
router (FastAPI and pydantic read the bounds from the annotation, and show them in the OpenAPI document);
`parse_id` does the same for a value a page reads by hand (a form field, a filter that may be empty).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from seamline.core.errors import FieldError, InvalidInput

MIN_ID = -(2**63)
MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=MIN_ID, le=MAX_ID)]
_DIGITS = re.compile(r"-?[0-9]{1,19}")  # the longest id has 19 digits: longer text is refused before int() reads it


def is_storable(value: int) -> bool:
    """Whether a database integer column can hold `value`."""
    return MIN_ID <= value <= MAX_ID


def parse_id(field: str, text: str) -> int | None:
    """A hand-read id: None when empty, InvalidInput naming `field` when it is not a number a row can have."""
    text = text.strip()
    if not text:
        return None
    value = int(text) if _DIGITS.fullmatch(text) else None
    if value is None or not is_storable(value):
        raise InvalidInput([FieldError(field, "invalid", f"{field} must be a whole number up to {MAX_ID}")])
    return value
