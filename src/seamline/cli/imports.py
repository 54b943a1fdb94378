"""`seamline import`: a file of a source's records (CSV, JSON Lines) into the inbox, validated first."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

from seamline.cli.session import engine_for, err, fail, load_settings
from seamline.core.errors import SeamlineError
from seamline.core.migrations import is_up_to_date
from seamline.imports.mapping import load_mapping
from seamline.imports.service import (
    ImportRefused,
    ProgressCallback,
    Report,
    find_source,
    import_file,
    refusal,
    validate_file,
)

PLAIN_EVERY_SECONDS = 5.0  # how often a log line is written when stdout is not a terminal


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

    def report(phase: str, done: int, total: int, rows: int) -> None:
        now = time.monotonic()
        started.setdefault(phase, previous[0])
        previous[0] = now
        if done < total and now - last.get(phase, 0.0) < PLAIN_EVERY_SECONDS:
            return
        last[phase] = now
        elapsed = now - started[phase]
        rate = rows / elapsed if elapsed > 0 else 0.0
        percent = 100.0 * done / total if total else 100.0
        typer.echo(f"{phase}: {rows:,} rows, {percent:.0f}% of the file, {rate:,.0f} rows/s")

    return report


def _print_report(report: Report) -> None:
    err.print(f"[red]error:[/red] {report.error_count} problem(s) in {report.rows:,} row(s); nothing was imported")
    for error in report.errors:
        where = f"line {error.line}" if error.line else "file"
        err.print(escape(f"  {where}: {error.reason}"))
    if report.error_count > len(report.errors):
        err.print(f"  … and {report.error_count - len(report.errors)} more")


def import_command(
    source: Annotated[str, typer.Argument(help="Name of the source the records come from (it must exist).")],
    path: Annotated[Path, typer.Argument(help="CSV or JSON Lines file.", exists=True, dir_okay=False)],
    mapping: Annotated[
        Path, typer.Option("--mapping", help="YAML file saying which columns are what.", exists=True, dir_okay=False)
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report only; change nothing.")] = False,
) -> None:
    """Import a file of records: every row is validated first, then all are imported in one transaction, or none.

    Exit code 2 when a row is bad (each is reported with its line); importing the same file again changes nothing.
    """
    settings = load_settings()
    engine = engine_for(settings)
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the database schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        columns = load_mapping(mapping.read_text(encoding="utf-8"))
        found = find_source(engine, source)
        started = time.monotonic()
        with _progress() as on_progress:
            if dry_run:
                report = validate_file(path, columns, found.name, progress=on_progress)
                if not report.is_valid:
                    raise refusal(report)
            else:
                result = import_file(engine, found.name, path, columns, progress=on_progress)
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


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A rich progress bar on a terminal; plain log lines otherwise."""
    if not sys.stdout.isatty():
        yield _plain_progress()
        return
    columns = (TextColumn("{task.description:>8}"), BarColumn(), _RowRate(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns) as bar:
        tasks: dict[str, TaskID] = {}

        def on_progress(phase: str, done: int, total: int, rows: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total, rows=0)
            bar.update(tasks[phase], completed=done, rows=rows)

        yield on_progress
