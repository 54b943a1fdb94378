"""`seamline triggers`: check a folder of rule files, list the rules in force, run the due steps once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from seamline.cli.output import console
from seamline.cli.session import load_settings, transaction
from seamline.communications.templates import Catalog
from seamline.core.clock import utcnow
from seamline.feedback.surveys import SurveyError, load_surveys
from seamline.triggers.book import load_rules
from seamline.triggers.membership import segments_path
from seamline.triggers.rules import RuleError
from seamline.triggers.segments import conditions_of, load_segments
from seamline.worker.triggers import trigger_engine

app = typer.Typer(help="Trigger rules: check the files, list the rules, run the due steps.", no_args_is_help=True)


@app.command("check")
def check(
    folder: Annotated[Path | None, typer.Argument(help="Default: [triggers] rules_dir, or DATA_DIR/rules.")] = None,
) -> None:
    """Check a folder of rule files as the worker loads them; list them, or name the file, line and field at fault."""
    settings = load_settings()
    folder = folder or settings.triggers.rules_dir or settings.data_dir / "rules"
    templates = frozenset(Catalog(settings.email.templates_dir).names())
    segments = segments_path(settings.triggers.segments_file, settings.data_dir)
    try:
        rules = load_rules(folder, templates=templates, surveys=frozenset(load_surveys(settings.feedback.surveys_dir)),
                           segments=conditions_of(load_segments(segments)))  # fmt: skip
    except (RuleError, SurveyError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    table = Table("rule", "on", "steps", "once", "file")
    for r in rules:
        steps = ", ".join(f"{s.action} {s.target}".strip() + (f" after {s.delay}" if s.delay else "") for s in r.steps)
        once = (r.once or "person") + (f" every {r.once_every}" if r.once_every else "")
        table.add_row(*(Text(c) for c in (r.name, f"{r.kind} {r.subject}", steps, once, r.file)))
    console().print(table)


@app.command("run-due")
def run_due() -> None:
    """Do the waiting steps that are due now, once (the worker does this between batches)."""
    settings = load_settings()
    engine = trigger_engine(settings)
    with transaction(settings) as session:
        count = engine.run_due(session, utcnow())
    typer.echo(f"{count} steps taken")
