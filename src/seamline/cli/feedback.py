"""`seamline feedback`: check a folder of survey files, and read the rollups and the score trend (aggregates)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table
from rich.text import Text

from seamline.cli.output import console
from seamline.cli.session import load_settings, transaction
from seamline.core.clock import utcnow
from seamline.feedback.rollups import DIMENSIONS, by_question, rollup, score_trend
from seamline.feedback.surveys import SurveyError, load_surveys

app = typer.Typer(help="Feedback: check the survey files, read the rollups and the score trend.", no_args_is_help=True)
Days = Annotated[int, typer.Option(min=1, max=3660, help="The period: the last this many days.")]


@app.command("check")
def check(
    folder: Annotated[Path | None, typer.Argument(help="Default: [feedback] surveys_dir.")] = None,
) -> None:
    """Check a folder of survey files as the server loads them; list them, or name the file, line and field."""
    settings = load_settings()
    try:
        surveys = load_surveys(folder or settings.feedback.surveys_dir)
    except SurveyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    table = Table("survey", "kind", "touchpoint", "questions", "channels", "low score task", "file")
    for s in surveys.values():
        low = f"≤ {s.low_score.at_most}: {s.low_score.title}" if s.low_score else "—"
        asked = ", ".join(f"{q.key}{'*' if q.key == s.headline else ''} {q.kind} {q.low}-{q.high}" for q in s.questions)
        cells = (s.key, s.kind, s.touchpoint, asked, ", ".join(s.channels), low, s.file)
        table.add_row(*(Text(c) for c in cells))
    console().print(table)


@app.command("rollup")
def show_rollup(
    by: Annotated[str, typer.Option(help=", ".join(DIMENSIONS))] = "touchpoint",
    days: Days = 30,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Answers grouped by touchpoint, agent, journey step, communication type or survey, beside the errors and
    cases of the same people."""
    until = utcnow()
    with transaction() as session:
        rows = rollup(session, by=by, since=until - timedelta(days=days), until=until)
    if as_json:
        typer.echo(orjson.dumps([r.as_dict() for r in rows]).decode())
        return
    table = Table(by, "answers", "scores", "unhappy", "people", "with errors", "with cases")
    for r in rows:
        scores = ", ".join(f"{f.kind.upper()} {f.score}" for f in r.figures)
        errors, cases = f"{r.people_with_errors} ({r.communication_errors})", f"{r.people_with_cases} ({r.cases})"
        cells = (r.key or "—", str(r.answers), scores, str(r.unhappy), str(r.people), errors, cases)
        table.add_row(*(Text(c) for c in cells))
    console().print(table)


@app.command("questions")
def show_questions(
    days: Days = 30,
    as_json: Annotated[bool, typer.Option("--json", help="JSON rows instead of a table.")] = False,
) -> None:
    """Every rated question of every survey: answers, its figure and how its scores spread."""
    until = utcnow()
    with transaction() as session:
        rows = by_question(session, since=until - timedelta(days=days), until=until)
    if as_json:
        typer.echo(orjson.dumps([r.as_dict() for r in rows]).decode())
        return
    table = Table("survey", "question", "scale", "score", "answers", "spread")
    for r in rows:
        spread = " · ".join(f"{score}: {n}" for score, n in r.histogram)
        cells = (r.survey, r.question, r.kind.upper(), "—" if r.score is None else str(r.score), str(r.answers), spread)
        table.add_row(*(Text(c) for c in cells))
    console().print(table)


@app.command("trend")
def show_trend(
    bucket: Annotated[str, typer.Option(help="day or week")] = "week",
    days: Days = 90,
) -> None:
    """CSAT %, NPS and CES mean per day or week."""
    until = utcnow()
    with transaction() as session:
        points = score_trend(session, since=until - timedelta(days=days), until=until, bucket=bucket)
    table = Table("from", "measure", "score", "answers")
    for p in points:
        table.add_row(p.start.isoformat(), p.kind.upper(), "—" if p.score is None else str(p.score), str(p.answers))
    console().print(table)
