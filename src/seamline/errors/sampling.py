"""Quality-control sampling files: each row one wrong communication found by a checker. Pure: rows in, reports out
(or every mistake with the row's line). Columns: sample_id, communication_ids (several joined by `;`), field,
shown, expected, harm, customers_affected, vulnerable, note."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from seamline.core.errors import FieldError, InvalidInput
from seamline.errors.service import Report

REQUIRED = ("communication_ids", "field")
COLUMNS = (*REQUIRED, "sample_id", "shown", "expected", "harm", "customers_affected", "vulnerable", "note")
_YES = ("1", "true", "yes", "y")
_NO = ("", "0", "false", "no", "n")


def _text(row: Mapping[str, str | None], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def reports_from_rows(header: Sequence[str], rows: Sequence[Mapping[str, str | None]]) -> list[Report]:
    """One report per row; InvalidInput names each mistake with its row's line in the file (the header is line 1)."""
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        errors = [FieldError(c, "missing_column", f"the file needs a {c} column") for c in missing]
        errors += [FieldError(c, "unknown_column", f"unknown column; use {', '.join(COLUMNS)}") for c in unknown]
        raise InvalidInput(errors, "the sampling file was not imported")
    reports, errors = [], []
    for i, row in enumerate(rows):
        line = i + 2
        ids = [c.strip() for c in (row.get("communication_ids") or "").split(";") if c.strip()]
        count_text = _text(row, "customers_affected") or "1"
        vulnerable = (row.get("vulnerable") or "").strip().lower()
        if not count_text.isdigit() or int(count_text) < 1:
            errors.append(FieldError("customers_affected", "invalid", f"a whole number ≥ 1, not {count_text!r}", line))
        if vulnerable not in _YES + _NO:
            errors.append(FieldError("vulnerable", "invalid", f"yes or no, not {vulnerable!r}", line))
        reports.append(
            Report(
                ids,
                (row.get("field") or "").strip(),
                _text(row, "shown"),
                _text(row, "expected"),
                _text(row, "note"),
                _text(row, "harm"),
                int(count_text) if count_text.isdigit() else 1,
                vulnerable in _YES,
                external_ref=_text(row, "sample_id"),
            )
        )
    if errors:
        raise InvalidInput(errors, "the sampling file was not imported")
    return reports
