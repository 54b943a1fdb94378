"""`seamline errors`: import quality-control sampling files, check a policy file, run the escalation clocks."""

from __future__ import annotations

import csv
import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from seamline.cli.session import err, fail, load_settings, transaction
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.principal import Principal
from seamline.errors.escalation import run_due
from seamline.errors.policy import PolicyError, read_policy
from seamline.errors.policystore import PolicyStore
from seamline.errors.sampling import reports_from_rows
from seamline.errors.service import report_errors

app = typer.Typer(
    help="Communication errors: sampling files, the policy file, escalation clocks.", no_args_is_help=True
)


def _policy_store(path: Path | None) -> PolicyStore:
    try:
        return PolicyStore(path)
    except PolicyError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _by_line(exc: InvalidInput) -> InvalidInput:
    """The service names rows by index; a person reads the file by line (the header is line 1)."""
    lines = [FieldError(e.field, e.code, e.message, None if e.index is None else e.index + 2) for e in exc.errors]
    return InvalidInput(lines, f"{exc.message} (each mistake is named by its line in the file)")


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A CSV sampling file with a header row.")],
) -> None:
    """Import a quality-control sampling file: every row is checked first, then all are reported, or none."""
    settings = load_settings()
    policy = _policy_store(settings.errors.policy_file).current()
    with path.open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        rows = list(reader)
        header = list(reader.fieldnames or [])
    operator = Principal(name=f"cli:{getpass.getuser()}", kind="operator", scopes=frozenset(), surface="cli")
    try:
        reports = reports_from_rows(header, rows)
    except InvalidInput as exc:
        raise fail(InvalidInput(exc.errors, f"{exc.message} (each mistake is named by its line in the file)")) from None
    with transaction(settings) as session:
        try:
            made = report_errors(session, policy, reports, actor=operator, intake="import")
        except InvalidInput as exc:
            raise fail(_by_line(exc)) from None
    by_severity: dict[str, int] = {}
    for error in made:
        by_severity[error.severity] = by_severity.get(error.severity, 0) + 1
    counts = ", ".join(f"{n} {s}" for s, n in sorted(by_severity.items()))
    problems = len({e.problem_id for e in made if e.problem_id is not None})
    typer.echo(f"{len(made)} errors reported ({counts}); {problems} problems touched")


@app.command("check-policy")
def check_policy(
    path: Annotated[Path | None, typer.Argument(dir_okay=False, help="Default: the configured policy file.")] = None,
) -> None:
    """Check a policy file: every mistake with its line and field; exit 2 when it would not load."""
    target = path or load_settings().errors.policy_file
    try:
        policy = read_policy(target)
    except PolicyError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    typer.echo(
        f"{target or 'the built-in policy'}: {len(policy.harms)} harms, {len(policy.severities)} severities, "
        f"{len(policy.regulatory_clocks)} regulatory clocks: it loads"
    )


@app.command("run-due")
def run_due_command() -> None:
    """Check every escalation clock now (the worker does this every `[errors] check_seconds`)."""
    settings = load_settings()
    store = _policy_store(settings.errors.policy_file)
    with transaction(settings) as session:
        sent = run_due(session, utcnow(), store)
    typer.echo(f"{sent} notices queued")
