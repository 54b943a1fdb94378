"""Bulk import of a file or a query into the inbox: validate every row first, then write all of it in one transaction.

Two streamed passes, so memory does not grow with the input: the first reads every row and reports the bad ones;
the second reads it again and appends its messages to the inbox, a chunk at a time, in one transaction.
All or nothing: a file is one statement of a source's records, and half of it applied (some customers updated,
the rest not, and no way to tell which) is worse than none; a failed run changes nothing, and since message ids
are digests of the rows, running it again after a fix appends only what is new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.core.db import WRITE_INTENT
from seamline.core.errors import FieldError, InvalidInput, NotFound, TooLarge
from seamline.identity.rules import IdentityConfig
from seamline.imports.cells import CellRules, cell_problems
from seamline.imports.consent import check_section, consent_errors
from seamline.imports.encoding import DEFAULT as DEFAULT_ENCODING
from seamline.imports.encoding import decoding_for
from seamline.imports.mapping import ImportMapping, RowProblem, missing_columns, row_to_messages
from seamline.imports.parquet import ParquetRows
from seamline.imports.query import snapshot
from seamline.imports.reader import RowFile, Rows
from seamline.ingestion import wire
from seamline.ingestion.service import append_messages
from seamline.sources.service import SourceView, list_sources

CHUNK_ROWS = 1_000
MAX_REPORTED = 100
MAX_QUERY_EVIDENCE = 1_000  # characters of a query kept in an imported choice's evidence

# Called as rows are read: (phase "validate" or "write", done, total or None when unknown, rows so far). `done`
# and `total` are bytes for CSV and JSON Lines, rows for Parquet; a query's total is unknown (None).
ProgressCallback = Callable[[str, int, int | None, int], None]
RowOpener = Callable[[], AbstractContextManager[Rows]]
# A value that changes when the input does (compared before validation and after the write pass).
InputStamp = Callable[[], object]


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # the line of a text file, the row number of Parquet or a query; 0 for the whole input
    reason: str


@dataclass(slots=True)
class Report:
    """What validation found: rows read, the first problems (with their positions) and how many there were."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    unit: str = "line"  # what a position is: "line" (CSV, JSON Lines) or "row" (Parquet, SQL)

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
    consistency: str = "the file is read twice"


def _limits(messages: int) -> wire.Limits:
    # The HTTP API's per-message limits; a chunk is not an HTTP request, so its message count is not capped.
    return wire.Limits(max_batch_events=max(wire.Limits().max_batch_events, messages))


def _chunks(
    rows: Rows,
    mapping: ImportMapping,
    source: str,
    origin: dict[str, Any],
    report: Report,
    progress: ProgressCallback | None,
    phase: str,
    cells: CellRules | None,
    seen: set[str] | None = None,
) -> Iterator[tuple[list[dict[str, Any]], list[int]]]:
    """Messages of up to CHUNK_ROWS rows and the line of each message; every problem of a row goes to the report
    with the row's position (where a CSV record starts).

    `cells` None skips the cell checks (a write pass over input known unchanged); `seen`, when given, collects the
    mapped columns rows hold (for files without a header).
    """
    wanted = mapping.columns()
    messages: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, row in rows.rows():
        report.rows += 1
        if isinstance(row, RowProblem):
            report.add(row.line, row.reason)
            continue
        if seen is not None and len(seen) < len(wanted):
            seen.update(c for c in wanted if c in row)
        problems = cell_problems(row, mapping, cells) if cells is not None else []
        try:
            produced = row_to_messages(row, mapping, line, source, {**origin, "unit": rows.unit})
        except RowProblem as problem:
            problems[:0] = problem.reasons
        if problems:
            for reason in problems:
                report.add(line, reason)
            continue
        messages.extend(produced)
        lines.extend([line] * len(produced))
        if report.rows % CHUNK_ROWS == 0:
            yield messages, lines
            messages, lines = [], []
            if progress is not None:
                progress(phase, *rows.progress(), report.rows)
    if messages:
        yield messages, lines
    if progress is not None:
        # At the end the total is known even for a query: the bar completes instead of pulsing on.
        _done, total = rows.progress()
        progress(phase, total if total is not None else report.rows, total or report.rows, report.rows)


def _check(messages: list[dict[str, Any]], lines: list[int], report: Report, consent: ConsentConfig) -> None:
    """What the tracking API, and the worker's consent rules, would refuse in these messages, by line."""
    try:
        wire.parse_batch({"batch": messages}, utcnow(), _limits(len(messages)))
    except (InvalidInput, TooLarge) as exc:
        for error in exc.errors:
            line = lines[error.index] if error.index is not None else 0
            report.add(line, f"{error.field}: {error.message}")
    _check_consent(messages, lines, report, consent)


def _check_consent(messages: list[dict[str, Any]], lines: list[int], report: Report, consent: ConsentConfig) -> None:
    """What the worker's consent rules would refuse (it would drop those choices, not refuse the event)."""
    for message, line in zip(messages, lines, strict=True):
        if message["type"] == "track":
            for error in consent_errors(message, consent):
                report.add(line, f"consent {error.field.removeprefix('properties.')}: {error.message}")


def validate_rows(
    open_rows: RowOpener,
    mapping: ImportMapping,
    source: str,
    *,
    origin: dict[str, Any] | None = None,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Read every row and report each problem a row has (the first 100, and the count).

    `cells` says what email, phone and date cells must be (by default: the default identity configuration's).
    """
    report = Report()
    consent = consent or ConsentConfig()
    if mapping.consent is not None:
        for error in check_section(mapping.consent, consent):
            report.add(0, f"mapping {error.field}: {error.message}")
        if not report.is_valid:
            return report
    try:
        opened = open_rows()
    except RowProblem as problem:  # the file cannot even be read (its header does not decode)
        report.add(problem.line, problem.reason)
        return report
    with opened as rows:
        report.unit = rows.unit
        if rows.header is not None:
            missing = missing_columns(rows.header, mapping)
            if missing:
                where = 1 if rows.unit == "line" else 0
                report.add(where, f"the header lacks the mapped column(s) {', '.join(missing)}")
                return report
        seen: set[str] = set()
        cells = cells or CellRules.of(IdentityConfig())
        for messages, lines in _chunks(rows, mapping, source, origin or {}, report, progress, "validate", cells, seen):
            _check(messages, lines, report, consent)
        if rows.header is None and report.rows:
            # JSON Lines has no header: a column the mapping names that no line holds is most likely a typo.
            for column in sorted(mapping.columns() - seen):
                report.add(0, f"no line has the mapped column {column!r}")
    report.errors.sort(key=lambda e: e.line)
    return report


def open_file(path: Path, mapping: ImportMapping, encoding: str = DEFAULT_ENCODING) -> AbstractContextManager[Rows]:
    """The file's rows, read as its format says; a text file decoded as `encoding` (or its byte-order mark) says."""
    file_format = mapping.format_for(path)
    if file_format == "parquet":
        return ParquetRows(path, mapping.columns())
    return RowFile(path, file_format, encoding)


def validate_file(
    path: Path,
    mapping: ImportMapping,
    source: str,
    *,
    encoding: str = DEFAULT_ENCODING,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Read the whole file and report every problem of its rows (the first 100, and the count)."""
    _check_file(path, mapping, encoding)
    return validate_rows(
        lambda: open_file(path, mapping, encoding),
        mapping,
        source,
        origin=_file_origin(path),
        consent=consent,
        cells=cells,
        progress=progress,
    )


def _check_file(path: Path, mapping: ImportMapping, encoding: str) -> None:
    """The caller's mistakes (a format nothing tells, an encoding no codec has), raised before any row is read."""
    if mapping.format_for(path) != "parquet":
        decoding_for(path, encoding)


def _file_origin(path: Path) -> dict[str, Any]:
    return {"file": path.name}


def find_source(engine: Engine, name: str) -> SourceView:
    """The source a file is imported as; NotFound when there is none of that name."""
    with Session(engine) as session:
        found = next((s for s in list_sources(session) if s.name == name), None)
    if found is None:
        raise NotFound(f"no source named {name!r}; create it with `seamline sources create {name} --kind import`")
    return found


def import_rows(
    engine: Engine,
    source_name: str,
    open_rows: RowOpener,
    mapping: ImportMapping,
    *,
    origin: dict[str, Any] | None = None,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    stamp: InputStamp | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Validate every row, then append every row's messages to the inbox in one transaction (all or nothing).

    This is its own transaction boundary, not the caller's: validation reads every row before the write
    transaction begins, so SQLite's write lock is held for the write pass only. With a `stamp` of the input, the
    write pass trusts the validation's cell checks (emails, phones and dates cost more than the rest of a row) and
    refuses everything if the stamp changed by its end; without one it checks every cell again.
    """
    source = find_source(engine, source_name)
    consent = consent or ConsentConfig()
    cells = cells or CellRules.of(IdentityConfig())
    origin = origin or {}
    before = stamp() if stamp is not None else None
    report = validate_rows(
        open_rows, mapping, source.name, origin=origin, consent=consent, cells=cells, progress=progress
    )
    if not report.is_valid:
        raise refusal(report)
    received_at = utcnow()
    written = Report(unit=report.unit)
    messages_total = new_events = 0
    recheck = cells if stamp is None else None
    with engine.execution_options(**{WRITE_INTENT: True}).begin() as conn, open_rows() as rows:
        for messages, lines in _chunks(rows, mapping, source.name, origin, written, progress, "write", recheck):
            # The input may have changed since it was validated: appending re-checks the wire rules (and raises),
            # consent is checked here, and a bad row refuses everything.
            _check_consent(messages, lines, written, consent)
            if written.is_valid:
                new_events += append_messages(conn, source.id, received_at, messages, _limits(len(messages)))
            messages_total += len(messages)
        if stamp is not None and stamp() != before:
            written.add(0, "the input changed while it was imported; import it again")
        if not written.is_valid:  # the input changed between the two passes: roll back everything
            raise refusal(written)
    return ImportResult(written.rows, messages_total, new_events, messages_total - new_events)


def import_file(
    engine: Engine,
    source_name: str,
    path: Path,
    mapping: ImportMapping,
    *,
    encoding: str = DEFAULT_ENCODING,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a CSV, JSON Lines or Parquet file (see import_rows); text files decoded as `encoding` says."""
    _check_file(path, mapping, encoding)
    return import_rows(
        engine,
        source_name,
        lambda: open_file(path, mapping, encoding),
        mapping,
        origin=_file_origin(path),
        consent=consent,
        cells=cells,
        stamp=lambda: _file_stamp(path),
        progress=progress,
    )


def _file_stamp(path: Path) -> object:
    """What changes when a file is written to or replaced: its inode, size and modification time."""
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def _query_origin(url: str, query: str) -> dict[str, Any]:
    return {"database": url, "query": query[:MAX_QUERY_EVIDENCE]}


def validate_query(
    url: str,
    query: str,
    mapping: ImportMapping,
    source: str,
    *,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    progress: ProgressCallback | None = None,
) -> Report:
    """Run the query on the source database and report every row that cannot be imported."""
    with snapshot(url) as snap:
        return validate_rows(
            lambda: snap.rows(query),
            mapping,
            source,
            origin=_query_origin(snap.url, query),
            consent=consent,
            cells=cells,
            progress=progress,
        )


def import_query(
    engine: Engine,
    source_name: str,
    url: str,
    query: str,
    mapping: ImportMapping,
    *,
    consent: ConsentConfig | None = None,
    cells: CellRules | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import the rows a SQL query returns from a source database: both passes read one snapshot (see query.py)."""
    with snapshot(url) as snap:
        result = import_rows(
            engine,
            source_name,
            lambda: snap.rows(query),
            mapping,
            origin=_query_origin(snap.url, query),
            consent=consent,
            cells=cells,
            stamp=_one_snapshot,
            progress=progress,
        )
    return ImportResult(result.rows, result.messages, result.new_events, result.skipped_duplicates, snap.consistency)


def _one_snapshot() -> object:
    """A query's stamp: both passes read one snapshot, so what was validated is what is written."""
    return None


@dataclass
class ImportRefused(InvalidInput):
    """Validation found bad rows, so nothing was imported; `report` has them with their lines."""

    report: Report = field(default_factory=Report)


def refusal(report: Report) -> ImportRefused:
    """The report as the error that refuses the import."""
    return ImportRefused(
        [FieldError(f"{report.unit} {e.line}", "invalid_row", e.reason, e.line) for e in report.errors],
        f"{report.error_count} problem(s) in {report.rows} row(s); nothing was imported",
        report,
    )
