"""Rows of a CSV or JSON Lines file, streamed: one row in memory at a time, with its line and the bytes read.

Every way rows come in (these files, Parquet, a SQL query) has the shape of `Rows`: the service reads them all
the same way and only the report's word for a position ("line" or "row") and the progress total differ.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import orjson

from seamline.imports.encoding import (
    DEFAULT,
    UTF16_HINT,
    decoding_for,
    undecodable_line,
    undecodable_reason,
)
from seamline.imports.mapping import RowProblem

Row = dict[str, Any]


class Rows(Protocol):
    """An open stream of rows: what validation and writing read, twice."""

    unit: str  # what a position is called in reports: "line" (text files) or "row" (Parquet, SQL)
    header: list[str] | None  # the columns, when known before the first row (None for JSON Lines)

    def rows(self) -> Iterator[tuple[int, Row | RowProblem]]:
        """Each row with its position (1-based), or the problem at that position."""
        ...

    def progress(self) -> tuple[int, int | None]:
        """How far reading is, and out of how much (None when the total is unknown, as for a query)."""
        ...

    def close(self) -> None: ...


def plain_value(value: Any) -> Any:
    """A typed cell (Parquet, SQL) as JSON can carry it; RowProblem's caller names the column for bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        raise TypeError("binary data")
    return value


def plain_row(row: Row, position: int) -> Row | RowProblem:
    """A typed row with every cell made plain, or the problem naming the first cell that cannot be."""
    out: Row = {}
    for name, value in row.items():
        try:
            out[name] = plain_value(value)
        except TypeError as exc:
            return RowProblem(position, f"column {name!r} holds {exc}, which cannot be imported")
    return out


class RowFile:
    """An open file to read rows from; `header` is the CSV header (None for JSON Lines).

    Text is decoded as `encoding` says (UTF-8 by default) unless the file starts with a byte-order mark. Bytes that
    do not decode, and CSV the reader cannot parse, end the rows with a RowProblem at the file's own line: raised
    here when the header cannot be read, yielded by `rows()` otherwise.
    """

    unit = "line"

    def __init__(self, path: Path, file_format: str, encoding: str = DEFAULT) -> None:
        self.format = file_format
        self.path = path
        self.size = path.stat().st_size
        self.decoding = decoding_for(path, encoding)
        # Unbuffered underneath so that `position` is what was read from the disk (at most one buffer ahead).
        self._raw = path.open("rb", buffering=0)
        self._raw.seek(self.decoding.skip)
        self._text = io.TextIOWrapper(io.BufferedReader(self._raw), encoding=self.decoding.codec, newline="")
        self.header: list[str] | None = None
        self._csv: Any = None
        if file_format == "csv":
            self._csv = csv.reader(self._text)
            try:
                self.header = [name.strip() for name in next(self._csv)]
            except StopIteration:
                self.header = []
            except (UnicodeDecodeError, csv.Error) as exc:
                self.close()
                raise self._unreadable(exc, 1) from None
            if any("\x00" in name for name in self.header):
                self.close()
                raise RowProblem(1, f"the header holds NUL characters: {UTF16_HINT}")

    def _unreadable(self, exc: UnicodeDecodeError | csv.Error, line: int) -> RowProblem:
        """The problem that stops reading: undecodable bytes (found by the file's line) or CSV past parsing."""
        if isinstance(exc, UnicodeDecodeError):
            where, culprit = undecodable_line(self.path, self.decoding)
            return RowProblem(where, undecodable_reason(self.decoding, culprit))
        return RowProblem(line, f"the file cannot be read past this line: {exc}")

    def progress(self) -> tuple[int, int | None]:
        """Bytes read so far, of the file's size."""
        return self._raw.tell(), self.size

    def rows(self) -> Iterator[tuple[int, Row | RowProblem]]:
        """Each row with its line number, or the problem that line has; blank lines are skipped."""
        return self._csv_rows() if self._csv is not None else self._jsonl_rows()

    def _csv_rows(self) -> Iterator[tuple[int, Row | RowProblem]]:
        header = self.header or []
        reader = self._csv
        line = reader.line_num + 1  # where the next record starts: a quoted field may span lines
        try:
            for cells in reader:
                if cells:
                    if len(cells) != len(header):
                        yield line, RowProblem(line, f"{len(cells)} fields where the header has {len(header)}")
                    else:
                        yield line, dict(zip(header, cells, strict=True))
                line = reader.line_num + 1
        except (UnicodeDecodeError, csv.Error) as exc:
            problem = self._unreadable(exc, line)
            yield problem.line, problem

    def _jsonl_rows(self) -> Iterator[tuple[int, Row | RowProblem]]:
        try:
            for line, text in enumerate(self._text, start=1):
                if not text.strip():
                    continue
                try:
                    value = orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    yield line, RowProblem(line, f"not valid JSON: {exc}")
                    continue
                if isinstance(value, dict):
                    yield line, value
                else:
                    yield line, RowProblem(line, "each line must be a JSON object")
        except UnicodeDecodeError as exc:
            problem = self._unreadable(exc, 0)  # located by the bytes themselves
            yield problem.line, problem

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> RowFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
