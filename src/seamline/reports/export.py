"""The one export of every table on the reports pages: CSV (header from the columns) or JSON (a list of records)."""

from __future__ import annotations

import csv
import io

import orjson

from seamline.reports.tiles import Table

FORMATS = ("csv", "json")
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def csv_text(table: Table) -> str:
    """The table as CSV; lists are joined by `; `, and a cell that a spreadsheet would run as a formula is quoted
    with a leading apostrophe (CSV injection)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(table.columns), lineterminator="\n")
    writer.writeheader()
    for record in table.records():
        row = {}
        for k, v in record.items():
            text = "; ".join(map(str, v)) if isinstance(v, list | tuple) else v
            if isinstance(text, str) and text[:1] in ("=", "+", "-", "@") and not _is_number(text):
                text = "'" + text
            row[k] = text
        writer.writerow(row)
    return out.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def encoded(table: Table, format: str) -> bytes:
    """The table in an export format ("csv" or "json")."""
    if format == "json":
        return orjson.dumps(table.records(), option=orjson.OPT_NON_STR_KEYS)
    if format == "csv":
        return csv_text(table).encode()
    raise ValueError(f"{format!r} is not an export format")  # the edges check before
