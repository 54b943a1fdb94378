"""The rule for operator-chosen names (sources, server keys): short, lower-case, safe in URLs and shells."""

from __future__ import annotations

import re

from seamline.core.errors import FieldError

# fullmatch, not `$`: `$` also accepts a trailing newline.
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


def name_error(name: str, field: str = "name") -> FieldError | None:
    """Why a name is not acceptable, or None."""
    if _NAME.fullmatch(name):
        return None
    return FieldError(field, "invalid", "use 1-100 lower-case letters, digits, '.', '_' or '-'")
