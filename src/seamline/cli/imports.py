"""`seamline import`: a source's records (a CSV, JSON Lines or Parquet file, or a SQL query) into the inbox,
validated first.

The import pipeline (its readers, Parquet's pyarrow, the identity rules, the inbox, SQLAlchemy and the settings) is
imported when the command runs, not at the top: there it made `seamline import --help` take ~0.9 s on a quiet
machine (tests/cli/test_startup.py checks what the help imports).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from seamline.cli.output import Messages
from seamline.imports.encoding import DEFAULT as DEFAULT_ENCODING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from seamline.config import Settings
    from seamline.imports.cells import CellRules
    from seamline.imports.mapping import ImportMapping
    from seamline.imports.service import ImportResult, ProgressCallback, Report

err = Messages()  # as the session module's (a console at each print): that module loads SQLAlchemy and the settings
PLAIN_EVERY_SECONDS = 5.0  # how often a log line is written when stdout is not a terminal
SQL_URL_VARIABLE = "SEAMLINE_IMPORT_SQL_URL"  # keeps a password out of the process list and shell history


class _RowRate(ProgressColumn):
    """Rows per second of the current pass (the bar itself counts bytes, which is what gives the ETA)."""

    def render(self, task: Task) -> Text:
        rows = int(task.fields.get("rows", 0))
        elapsed = task.elapsed or 0.0
        rate = f"{rows / elapsed:,.0f} rows/s" if elapsed > 0 else "- rows/s"
        return Text(f"{rows:,} rows  {rate}")


def _plain_progress() -> ProgressCallback:
    """Progress as log lines, at most one every few seconds per pass, for logs and pipes."""
    last: dict[str, float] = {}
    started: dict[str, float] = {}
    previous = [time.monotonic()]  # a pass starts when the one before it last reported

    def report(phase: str, done: int, total: int | None, rows: int) -> None:
        now = time.monotonic()
        started.setdefault(phase, previous[0])
        previous[0] = now
        finished = total is not None and done >= total
        if not finished and now - last.get(phase, 0.0) < PLAIN_EVERY_SECONDS:
            return
        last[phase] = now
        elapsed = now - started[phase]
        rate = rows / elapsed if elapsed > 0 else 0.0
        if total is None:  # a query: no total to measure against
            typer.echo(f"{phase}: {rows:,} rows, {rate:,.0f} rows/s")
            return
        percent = 100.0 * done / total if total else 100.0
        remaining = (elapsed / done) * (total - done) if done else 0.0
        typer.echo(f"{phase}: {rows:,} rows, {percent:.0f}%, {rate:,.0f} rows/s, about {remaining:,.0f} s left")

    return report


def _print_report(report: Report) -> None:
    err.print(f"[red]error:[/red] {report.error_count} problem(s) in {report.rows:,} row(s); nothing was imported")
    for error in report.errors:
        where = f"{report.unit} {error.line}" if error.line else "input"
        err.print(escape(f"  {where}: {error.reason}"))
    if report.error_count > len(report.errors):
        err.print(f"  … and {report.error_count - len(report.errors)} more")


def _sql_url(from_sql: str | None, query: str | None, path: Path | None) -> str | None:
    """The source database's URL when the rows come from a query; exits 2 on a mix-up of file and query."""
    if query is None:
        if from_sql is not None:
            err.print("[red]error:[/red] --from-sql needs --query")
            raise typer.Exit(2)
        if path is None:
            err.print("[red]error:[/red] give a file (PATH) or a query (--query with --from-sql)")
            raise typer.Exit(2)
        return None
    if path is not None:
        err.print("[red]error:[/red] give a file or a query, not both")
        raise typer.Exit(2)
    url = from_sql or os.environ.get(SQL_URL_VARIABLE)
    if not url:
        err.print(f"[red]error:[/red] --query needs the source database: --from-sql URL or {SQL_URL_VARIABLE}")
        raise typer.Exit(2)
    return url


def import_command(
    source: Annotated[str, typer.Argument(help="Name of the source the records come from (it must exist).")],
    path: Annotated[
        Path | None,
        typer.Argument(help="CSV, JSON Lines or Parquet file (or use --query).", exists=True, dir_okay=False),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", help="YAML file saying which columns are what.", exists=True, dir_okay=False),
    ] = None,
    from_sql: Annotated[
        str | None,
        typer.Option(
            "--from-sql",
            help=f"SQLAlchemy URL of the source database (or set {SQL_URL_VARIABLE}), e.g. "
            "postgresql+psycopg://user@host/crm or sqlite:///crm.db",
        ),
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", help="SELECT whose columns the mapping names; run read-only.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only; change nothing.")] = False,
    encoding: Annotated[
        str,
        typer.Option(
            "--encoding",
            help="Encoding of a CSV or JSON Lines file, e.g. utf-8, cp1252, latin-1, utf-16-le. A byte-order mark "
            "in the file (UTF-8, UTF-16, UTF-32) wins.",
        ),
    ] = DEFAULT_ENCODING,
) -> None:
    """Import records: every row is validated first, then all are imported in one transaction, or none.

    Exit code 2 when a row is bad (each problem is reported with the line where its record starts, or the row
    number for Parquet and queries) or the file does not decode; importing the same records again changes nothing.
    """
    from seamline.cli.session import engine_for, fail, load_settings  # imported when it runs (see the docstring)
    from seamline.core.errors import SeamlineError
    from seamline.core.schema import is_up_to_date
    from seamline.imports.cells import CellRules
    from seamline.imports.mapping import load_mapping
    from seamline.imports.service import ImportRefused, find_source, refusal, validate_file, validate_query

    if mapping is None:
        err.print("[red]error:[/red] --mapping is required")
        raise typer.Exit(2)
    url = _sql_url(from_sql, query, path)
    settings = load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the database schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        columns = load_mapping(mapping.read_text(encoding="utf-8"))
        found = find_source(engine, source)
        cells = CellRules.of(settings.identity)
        started = time.monotonic()
        with _progress() as on_progress:
            if dry_run:
                if url is not None and query is not None:
                    report = validate_query(
                        url, query, columns, found.name, consent=settings.consent, cells=cells, progress=on_progress
                    )
                else:
                    assert path is not None
                    report = validate_file(
                        path,
                        columns,
                        found.name,
                        encoding=encoding,
                        consent=settings.consent,
                        cells=cells,
                        progress=on_progress,
                    )
                if not report.is_valid:
                    raise refusal(report)
            else:
                result = _run_import(
                    engine, found.name, path, url, query, columns, settings, encoding, cells, on_progress
                )
        elapsed = max(time.monotonic() - started, 1e-9)
    except ImportRefused as exc:
        _print_report(exc.report)
        raise typer.Exit(2) from None
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    if dry_run:
        typer.echo(f"{report.rows:,} rows, all valid ({report.rows / elapsed:,.0f} rows/s); dry run: nothing imported")
        return
    typer.echo(
        f"imported {result.rows:,} rows as {result.messages:,} messages: {result.new_events:,} new, "
        f"{result.skipped_duplicates:,} already in the inbox ({result.rows / elapsed:,.0f} rows/s)"
    )
    if query is not None:
        typer.echo(f"both passes read {result.consistency}")


def _run_import(
    engine: Engine,
    source: str,
    path: Path | None,
    url: str | None,
    query: str | None,
    mapping: ImportMapping,
    settings: Settings,
    encoding: str,
    cells: CellRules,
    progress: ProgressCallback,
) -> ImportResult:
    from seamline.imports.service import import_file, import_query

    if url is not None and query is not None:
        return import_query(
            engine, source, url, query, mapping, consent=settings.consent, cells=cells, progress=progress
        )
    assert path is not None
    return import_file(
        engine, source, path, mapping, encoding=encoding, consent=settings.consent, cells=cells, progress=progress
    )


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A rich progress bar on a terminal; plain log lines otherwise."""
    if not sys.stdout.isatty():
        yield _plain_progress()
        return
    columns = (TextColumn("{task.description:>8}"), BarColumn(), _RowRate(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        tasks: dict[str, TaskID] = {}

        # A query's total is unknown (None): rich then draws a pulsing bar, and the row count and rate still show.
        def on_progress(phase: str, done: int, total: int | None, rows: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total, rows=0)
            bar.update(tasks[phase], completed=done, rows=rows)

        yield on_progress
