"""Prepared records held by column: the table Splink reads, and a read-only record view of each row for the
decisions and the scorer.

A prepared record as a dict of its 24 columns costs about 1.1 KB in Python (most of it the dict itself): 1.1 GB at
a million records, held beside the frame Splink reads and DuckDB's own share through training and prediction. Built
column by column from a stream of prepared records, each dict lives only while its values are copied; a row is read
back through `RowView`, which holds only the row's number.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pandas as pd

from seamline.matching.prepare import COLUMNS

TABLE_COLUMNS = ("unique_id", *COLUMNS)


def records_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Prepared records (with `unique_id`) as the table Splink reads; every column is text (or a list of text).
    `records` may be a generator: it is read once, a record at a time."""
    columns: dict[str, list[Any]] = {c: [] for c in TABLE_COLUMNS}
    appends = [(c, columns[c].append) for c in TABLE_COLUMNS]
    for record in records:
        for column, append in appends:
            append(record.get(column))
    frame = pd.DataFrame({c: pd.Series(values, dtype="object") for c, values in columns.items()})
    columns.clear()
    return frame


class RowView(Mapping[str, Any]):
    """One row of a records frame, read as a prepared record (`record.get("first_name")`)."""

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: Mapping[str, Any], row: int) -> None:
        self._columns, self._row = columns, row

    def __getitem__(self, key: str) -> Any:
        return self._columns[key][self._row]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)


class FrameRecords(Mapping[str, RowView]):
    """unique_id -> the record's row, over a records frame (the frame's columns as arrays, no copy per record)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._columns = {c: frame[c].to_numpy() for c in frame.columns}
        self._rows = {uid: i for i, uid in enumerate(self._columns["unique_id"])}

    def __getitem__(self, unique_id: str) -> RowView:
        return RowView(self._columns, self._rows[unique_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)
