"""National ids in the console: masked to their last characters unless the viewer's role may reveal them. Pure.

A national id (a social security or national insurance number) opens accounts and answers security questions
elsewhere: an agent on a call needs at most its last digits to check what the caller says, so only roles allowed to
reveal it see it whole, and each reveal is audited by the page that asks for it.
"""

from __future__ import annotations

import re
from typing import Any

# Identifier types and trait names holding a national id (trait names compared without case, `_` or `-`).
NATIONAL_ID_NAMES = frozenset({"nationalid", "ssn", "socialsecuritynumber", "nino", "taxid"})
SHOWN = 4  # trailing characters left visible


def is_national_id(name: str) -> bool:
    """Whether an identifier type or trait name holds a national id."""
    return re.sub(r"[\s_\-]", "", name).lower() in NATIONAL_ID_NAMES


def mask(value: str) -> str:
    """A national id as an agent sees it: bullets, then its last four characters."""
    kept = value[-SHOWN:] if len(value) > SHOWN + 2 else ""
    return f"•••••{kept}"


def masked(value: Any) -> Any:
    """A message or trait value with every national id in it masked, at any depth."""
    if isinstance(value, dict):
        return {
            k: (mask(str(v)) if isinstance(k, str) and is_national_id(k) and v is not None else masked(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value
