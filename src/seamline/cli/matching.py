"""`seamline match`: train the matching model, run a batch, work the review queue, and find a customer by record."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Engine

from seamline.audit.service import record
from seamline.cli.output import console
from seamline.cli.params import id_argument
from seamline.cli.session import engine_for, load_settings, transaction
from seamline.config import Settings
from seamline.core.principal import Principal
from seamline.matching import findings as id_findings
from seamline.matching.readback import FORMATS, Audit, export_stream, import_sources, known_system
from seamline.matching.realtime import build_index, match_record
from seamline.matching.records import MatchingContext
from seamline.matching.service import (
    Backend,
    ReviewView,
    decide_review,
    get_review,
    list_reviews,
    run_batch,
    train_model,
)
from seamline.pipeline.registry import Pipeline

app = typer.Typer(
    help="Record matching: train, run a batch, review uncertain pairs, find by record.", no_args_is_help=True
)


def _operator() -> Principal:
    return Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")


def _context(settings: Settings) -> MatchingContext:
    return MatchingContext.build(
        settings.matching,
        Pipeline(settings.identity, settings.consent, settings.traits),
        settings.survivorship,
        settings.data_dir,
    )


@app.command("train")
def train() -> None:
    """Train a new model version on the current profiles (and reviewers' accepted pairs)."""
    settings = load_settings()
    ctx = _context(settings)
    with transaction(settings) as session:
        model = train_model(session, ctx)
    typer.echo(f"model v{model.version}: trained on {model.records} records and {model.labels} accepted label(s)")
    typer.echo(f"saved in {ctx.model_dir}")


@app.command("run")
def run(
    spark: Annotated[bool, typer.Option("--spark", help="Predict on Spark instead of in-process DuckDB.")] = False,
    spark_master: Annotated[str, typer.Option(help="Spark master URL (with --spark).")] = "local[2]",
) -> None:
    """Score every blocked pair of profiles: merge above the merge threshold, queue the grey band for review."""
    settings = load_settings()
    ctx = _context(settings)
    backend: Backend | None = None
    if spark:
        # Imported here: pyspark is an optional extra (seamline[spark]); the rest of the CLI must load without it.
        from seamline.matching.spark import spark_backend

        backend = spark_backend(spark_master)
    with transaction(settings) as session:
        summary = run_batch(session, ctx, backend=backend)
    typer.echo(f"run {summary.run_id} with model v{summary.model_version} in {summary.seconds:.1f}s")
    typer.echo(f"records: {summary.records}   pairs scored: {summary.pairs_scored}")
    typer.echo(f"merged: {summary.merges}   to review: {summary.reviews}   kept apart: {summary.apart}")
    typer.echo(f"held by the household guard: {summary.guarded}")
    if summary.id_typos:
        typer.echo(
            f"national ids one typo apart (merged when certain without the id, else in review; "
            f"to correct at the source): {summary.id_typos}"
        )
    if summary.id_differs:
        typer.echo(
            f"national ids that differ outright (merged when certain with the difference weighed, else in review; "
            f"to correct at the source): {summary.id_differs}"
        )
    typer.echo("merges are events in the inbox: the worker applies them.")


def _print_fields(view: ReviewView) -> None:
    table = Table("field", f"profile {view.left_profile_id}", f"profile {view.right_profile_id}", "level", "weight")
    for f in view.fields:
        table.add_row(f["field"], str(f["left"] or "-"), str(f["right"] or "-"), f["level"], f"{f['weight']:+.2f}")
    console().print(table)


@app.command("reviews")
def reviews(
    status: Annotated[str, typer.Option(help="pending, accepted, rejected or merged")] = "pending",
    limit: Annotated[int, typer.Option(help="How many at most.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
) -> None:
    """The review queue (or the pairs in another status), oldest first."""
    with transaction() as session:
        views = list_reviews(session, status=status, limit=limit)
        record(session, _operator(), "read", "match_pair", "list", {"ids": [v.id for v in views]})
    if as_json:
        for view in views:
            typer.echo(json.dumps(view.as_dict()))
        return
    table = Table("pair", "profiles", "probability", "weight", "model", "status", "created")
    for v in views:
        table.add_row(
            str(v.id),
            f"{v.left_profile_id} ~ {v.right_profile_id}",
            f"{v.probability:.4f}",
            f"{v.match_weight:+.2f}",
            f"v{v.model_version}",
            v.status,
            v.created_at.isoformat(timespec="seconds"),
        )
    console().print(table)


@app.command("show")
def show(pair_id: Annotated[int, id_argument()]) -> None:
    """One pair, field by field: both values, the level they met and its weight in the score."""
    with transaction() as session:
        view = get_review(session, pair_id)
        record(session, _operator(), "read", "match_pair", view.id, {})
    typer.echo(f"pair {view.id}: probability {view.probability:.4f}, weight {view.match_weight:+.2f}, {view.status}")
    _print_fields(view)


def _decide(pair_id: int, decision: str, note: str | None) -> None:
    settings = load_settings()
    operator = _operator()
    with transaction(settings) as session:
        view = decide_review(session, _context(settings), pair_id, decision, operator.name, note)
        for profile_id in (view.left_profile_id, view.right_profile_id):
            record(session, operator, "change", "profile", profile_id, {"match": view.id, "decision": decision})
    typer.echo(f"pair {view.id} {view.status}" + (": the worker merges them" if decision == "accept" else ""))


@app.command("accept")
def accept(
    pair_id: Annotated[int, id_argument()],
    note: Annotated[str | None, typer.Option(help="Why (kept with the label).")] = None,
) -> None:
    """Accept a pair: merge it through the identity graph, as an automatic merge is."""
    _decide(pair_id, "accept", note)


@app.command("reject")
def reject(
    pair_id: Annotated[int, id_argument()],
    note: Annotated[str | None, typer.Option(help="Why (kept with the label).")] = None,
) -> None:
    """Reject a pair: keep the two apart in later runs."""
    _decide(pair_id, "reject", note)


@app.command("find")
def find(
    first_name: Annotated[str | None, typer.Option()] = None,
    last_name: Annotated[str | None, typer.Option()] = None,
    date_of_birth: Annotated[str | None, typer.Option("--dob", help="YYYY-MM-DD")] = None,
    street: Annotated[str | None, typer.Option()] = None,
    postcode: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    national_id: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 5,
) -> None:
    """Candidate profiles for a record, tolerant of typos and nicknames (the real-time matcher)."""
    settings = load_settings()
    ctx = _context(settings)
    raw = {
        "first_name": first_name,
        "last_name": last_name,
        "date_of_birth": date_of_birth,
        "street": street,
        "postcode": postcode,
        "phone": phone,
        "email": email,
        "national_id": national_id,
    }
    with transaction(settings) as session:
        index = build_index(session, ctx)
        found = match_record(session, ctx, index, {k: v for k, v in raw.items() if v is not None}, limit=limit)
        record(session, _operator(), "read", "match", "realtime", {"candidates": [c.profile_id for c in found]})
    if not found:
        typer.echo("no candidates")
        return
    for candidate in found:
        reasons = ", ".join(f"{f.field} {f.level} {f.weight:+.1f}" for f in candidate.fields if f.level != "missing")
        typer.echo(f"profile {candidate.profile_id}  p={candidate.probability:.4f}  ({reasons})")


@app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    system: Annotated[str | None, typer.Option(help="Only the records of this import source.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Which active profile each imported source record ended in, with the evidence of every join."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    settings = load_settings()
    ctx = _context(settings)
    with transaction(settings) as session:
        sources = import_sources(session, system)
    _write(settings, out, lambda engine: export_stream(engine, ctx, sources, fmt, _audited("readback")))


@app.command("findings")
def findings(
    fmt: Annotated[str, typer.Option("--format", help="csv (one line per id) or jsonl (one line per finding)")] = "csv",
    system: Annotated[str | None, typer.Option(help="Only findings with an id held by this import source.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Data-quality findings: matched records holding national ids that differ, with the systems holding each id."""
    if fmt not in id_findings.FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(id_findings.FORMATS)}", param_hint="--format")
    settings = load_settings()
    with transaction(settings) as session:
        sources = import_sources(session)
    known_system(sources, system)  # an unknown system is an error before anything is written
    audit = _audited("id-findings")
    _write(settings, out, lambda engine: id_findings.findings_stream(engine, sources, system, fmt, audit))


def _audited(subject: str) -> Audit:
    """Each page's read recorded as the operator's read of the profiles it names."""
    operator = _operator()
    return lambda session, detail: record(session, operator, "read", "profile", subject, detail)


def _write(settings: Settings, out: Path | None, stream: Callable[[Engine], Iterator[str]]) -> None:
    """The stream's text to `out`, else to standard output, as it comes."""
    engine = engine_for(settings)
    target = out.open("w", encoding="utf-8", newline="") if out is not None else None
    try:
        for text in stream(engine):
            if target is not None:
                target.write(text)
            else:
                typer.echo(text, nl=False)
    finally:
        engine.dispose()
        if target is not None:
            target.close()
