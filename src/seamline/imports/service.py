"""Bulk import of a file into the inbox: validate every row first, then write all of it in one transaction.

Two streamed passes, so memory does not grow with the file: the first reads every row and reports the bad ones;
the second reads the file again and appends its messages to the inbox, a chunk at a time, in one transaction.
All or nothing: a file is one statement of a source's records, and half of it applied (some customers updated,
the rest not, and no way to tell which) is worse than none; a failed run changes nothing, and since message ids
are digests of the rows, running it again after a fix appends only what is new.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.db import WRITE_INTENT
from seamline.core.errors import FieldError, InvalidInput, NotFound, TooLarge
from seamline.imports.mapping import ImportMapping, RowProblem, missing_columns, row_to_messages
from seamline.imports.reader import RowFile
from seamline.ingestion import wire
from seamline.ingestion.service import append_messages
from seamline.sources.service import SourceView, list_sources

CHUNK_ROWS = 1_000
MAX_REPORTED = 100

# Called as the file is read: (phase "validate" or "write", bytes read, file size, rows so far).
ProgressCallback = Callable[[str, int, int, int], None]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str


@dataclass(slots=True)
class Report:
    """What validation found: rows read, the first problems (with their lines) and how many there were."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0

    @property
    def is_valid(self) -> bool:
        return self.error_count == 0

    def add(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append(RowError(line, reason))


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    messages: int
    new_events: int
    skipped_duplicates: int


def _limits(messages: int) -> wire.Limits:
    # The HTTP API's per-message limits; a chunk is not an HTTP request, so its message count is not capped.
    return wire.Limits(max_batch_events=max(wire.Limits().max_batch_events, messages))


def _chunks(
    rows: RowFile,
    mapping: ImportMapping,
    source: str,
    report: Report,
    progress: ProgressCallback | None,
    phase: str,
    seen: set[str] | None = None,
) -> Iterator[tuple[list[dict[str, Any]], list[int]]]:
    """Messages of up to CHUNK_ROWS rows and the line of each message; problems go to the report.

    `seen`, when given, collects the mapped columns rows hold (for files without a header).
    """
    wanted = mapping.columns()
    messages: list[dict[str, Any]] = []
    lines: list[int] = []
    line = 1
    try:
        for line, row in rows.rows():
            report.rows += 1
            try:
                if isinstance(row, RowProblem):
                    raise row
                if seen is not None and len(seen) < len(wanted):
                    seen.update(c for c in wanted if c in row)
                produced = row_to_messages(row, mapping, line, source)
            except RowProblem as problem:
                report.add(problem.line, problem.reason)
                continue
            messages.extend(produced)
            lines.extend([line] * len(produced))
            if report.rows % CHUNK_ROWS == 0:
                yield messages, lines
                messages, lines = [], []
                if progress is not None:
                    progress(phase, rows.position(), rows.size, report.rows)
    except (csv.Error, UnicodeDecodeError) as exc:
        # The reader cannot go on past this point, so the file stops here.
        report.add(line + 1, f"the file cannot be read past this line: {exc}")
    if messages:
        yield messages, lines
    if progress is not None:
        progress(phase, rows.size, rows.size, report.rows)


def _check(messages: list[dict[str, Any]], lines: list[int], report: Report) -> None:
    """What the tracking API would refuse in these messages, by line."""
    try:
        wire.parse_batch({"batch": messages}, utcnow(), _limits(len(messages)))
    except (InvalidInput, TooLarge) as exc:
        for error in exc.errors:
            line = lines[error.index] if error.index is not None else 0
            report.add(line, f"{error.field}: {error.message}")


def validate_file(
    path: Path, mapping: ImportMapping, source: str, *, progress: ProgressCallback | None = None
) -> Report:
    """Read the whole file and report every row that cannot be imported (the first 100, and the count)."""
    report = Report()
    with RowFile(path, mapping.format_for(path)) as rows:
        if rows.header is not None:
            missing = missing_columns(rows.header, mapping)
            if missing:
                report.add(1, f"the header lacks the mapped column(s) {', '.join(missing)}")
                return report
        seen: set[str] = set()
        for messages, lines in _chunks(rows, mapping, source, report, progress, "validate", seen):
            _check(messages, lines, report)
        if rows.header is None and report.rows:
            # JSON Lines has no header: a column the mapping names that no line holds is most likely a typo.
            for column in sorted(mapping.columns() - seen):
                report.add(0, f"no line has the mapped column {column!r}")
    report.errors.sort(key=lambda e: e.line)
    return report


def find_source(engine: Engine, name: str) -> SourceView:
    """The source a file is imported as; NotFound when there is none of that name."""
    with Session(engine) as session:
        found = next((s for s in list_sources(session) if s.name == name), None)
    if found is None:
        raise NotFound(f"no source named {name!r}; create it with `seamline sources create {name} --kind import`")
    return found


def import_file(
    engine: Engine,
    source_name: str,
    path: Path,
    mapping: ImportMapping,
    *,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Validate the file, then append every row's messages to the inbox in one transaction (all or nothing).

    This is its own transaction boundary, not the caller's: validation reads the whole file before the write
    transaction begins, so SQLite's write lock is held for the write pass only.
    """
    source = find_source(engine, source_name)
    report = validate_file(path, mapping, source.name, progress=progress)
    if not report.is_valid:
        raise refusal(report)
    received_at = utcnow()
    written = Report()
    messages_total = new_events = 0
    with (
        engine.execution_options(**{WRITE_INTENT: True}).begin() as conn,
        RowFile(path, mapping.format_for(path)) as rows,
    ):
        for messages, _lines in _chunks(rows, mapping, source.name, written, progress, "write"):
            new_events += append_messages(conn, source.id, received_at, messages, _limits(len(messages)))
            messages_total += len(messages)
        if not written.is_valid:  # the file changed between the two passes
            raise refusal(written)
    return ImportResult(written.rows, messages_total, new_events, messages_total - new_events)


@dataclass
class ImportRefused(InvalidInput):
    """Validation found bad rows, so nothing was imported; `report` has them with their lines."""

    report: Report = field(default_factory=Report)


def refusal(report: Report) -> ImportRefused:
    """The report as the error that refuses the import."""
    return ImportRefused(
        [FieldError(f"line {e.line}", "invalid_row", e.reason, e.line) for e in report.errors],
        f"{report.error_count} problem(s) in {report.rows} row(s); nothing was imported",
        report,
    )
