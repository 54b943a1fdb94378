"""`seamline analytics`: a funnel and the paths after a step, from the store, as a table, CSV or JSON."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

import orjson
import typer
from rich.table import Table

from seamline.analytics.export import csv_text, funnel_records, path_records
from seamline.analytics.service import Analytics, FunnelQuery, Period
from seamline.cli.output import console
from seamline.cli.session import engine_for, err, load_settings
from seamline.core.errors import InvalidInput

app = typer.Typer(help="Journey analytics: funnels and the paths people took after dropping off.", no_args_is_help=True)
Output = Literal["table", "csv", "json"]
StepsArg = Annotated[list[str], typer.Argument(help="Steps in order: NAME, NAME[property=value] or journey:KEY.STEP.")]
Since = Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD) people entered, included.")]
Until = Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD), included.")]
WindowHours = Annotated[int, typer.Option("--window-hours", min=1, max=8784, help="Conversion window from step 1.")]
Format = Annotated[str, typer.Option("--format", help="table, csv or json.")]


def _query(steps: list[str], since: str | None, until: str | None, hours: int, breakdown: str | None) -> FunnelQuery:
    try:
        period = Period(date.fromisoformat(since) if since else None, date.fromisoformat(until) if until else None)
    except ValueError as exc:
        raise typer.BadParameter(f"a day is YYYY-MM-DD: {exc}") from exc
    return FunnelQuery(tuple(steps), period, hours, breakdown)


def _refuse(bad: InvalidInput) -> typer.Exit:
    for e in bad.errors:
        where = f"{e.field}[{e.index}]" if e.index is not None else e.field
        err.print(f"[red]error:[/red] {where}: {e.message}", markup=True)
    return typer.Exit(2)


@app.command("funnel")
def funnel(
    steps: StepsArg,
    since: Since = None,
    until: Until = None,
    window_hours: WindowHours = 720,
    breakdown: Annotated[str | None, typer.Option(help="channel, device or source.")] = None,
    format: Format = "table",
) -> None:
    """A funnel: per step, who reached it, conversion, drop-off and the time from the step before."""
    engine = engine_for(load_settings())
    try:
        found = Analytics(engine).funnel(_query(steps, since, until, window_hours, breakdown))
    except InvalidInput as bad:
        raise _refuse(bad) from None
    finally:
        engine.dispose()
    records = funnel_records(found)
    if format == "csv":
        typer.echo(csv_text(records), nl=False)
        return
    if format == "json":
        typer.echo(orjson.dumps(records, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("#", "step", "group", "reached", "conversion", "dropped", "median", "p90")
    for f in found.figures:
        table.add_row(
            str(f.index), f.step, f.group or "everyone", f"{f.reached:,}", _pct(f.conversion), f"{f.dropped:,}",
            _duration(f.median_seconds), _duration(f.p90_seconds),
        )  # fmt: skip
    console().print(table)


@app.command("paths")
def paths(
    steps: StepsArg,
    step: Annotated[int, typer.Option(min=1, max=10, help="Paths of who dropped off at this step (1-based).")] = 1,
    depth: Annotated[int, typer.Option(min=1, max=10, help="Touches per path.")] = 3,
    top: Annotated[int, typer.Option(min=1, max=100, help="How many paths.")] = 20,
    since: Since = None,
    until: Until = None,
    window_hours: WindowHours = 720,
    format: Format = "table",
) -> None:
    """What people did next after dropping off at a step: events, journey steps, communications and cases."""
    engine = engine_for(load_settings())
    try:
        view = Analytics(engine).paths(_query(steps, since, until, window_hours, None), at=step, depth=depth, top=top)
    except InvalidInput as bad:
        raise _refuse(bad) from None
    finally:
        engine.dispose()
    if format == "csv":
        typer.echo(csv_text(path_records(view)), nl=False)
        return
    if format == "json":
        typer.echo(orjson.dumps(asdict(view), option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("people", "share", "path")
    for p in view.paths:
        table.add_row(f"{p.people:,}", _pct(p.share), p.text)
    console().print(table)
    typer.echo(f"{view.people:,} people {view.who} at step {view.step} ({view.label})")


def _pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "—"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172_800 else f"{seconds / 86_400:.1f} d"
