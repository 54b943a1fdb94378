"""`seamline errors`: a sampling file is imported whole or not at all (mistakes by line), a policy file is checked
with its lines, and the clocks run on demand."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from seamline.cli import app
from seamline.core.db import unit_of_work
from seamline.errors.policy import BUILTIN_POLICY
from seamline.errors.service import error_queue
from tests.errors.builders import log_run


def _run(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {"SEAMLINE_DATABASE_URL": database_url, "SEAMLINE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_a_sampling_file_is_imported_whole_or_not_at_all(database_url: str, tmp_path: Path, engine: Engine) -> None:
    ids = log_run(engine, "nov", 10)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "sample_id,communication_ids,field,shown,expected,vulnerable\n"
        f"qc-1,{ids[0]},balance,£1,£100,no\n"
        f"qc-2,{ids[1]};nope,balance,£1,£100,no\n"
        f"qc-3,{ids[2]},colour,red,blue,perhaps\n",
        encoding="utf-8",
    )
    refused = _run(database_url, tmp_path, "errors", "import", str(bad))
    assert refused.exit_code == 2
    assert "[4] vulnerable: yes or no" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(
        "sample_id,communication_ids,field,shown,expected\n"
        + "".join(f"qc-{i},{ids[i]},balance,£1,£100\n" for i in range(3)),
        encoding="utf-8",
    )
    done = _run(database_url, tmp_path, "errors", "import", str(good))
    assert done.exit_code == 0, done.output
    assert "3 errors reported (3 high); 1 problems touched" in done.output
    again = _run(database_url, tmp_path, "errors", "import", str(good))
    assert again.exit_code == 2
    assert "[2] external_ref: 'qc-0' was reported before" in again.output
    with unit_of_work(engine, write=False) as session:
        assert len(error_queue(session)) == 3


def test_a_bad_policy_file_is_named_by_line(database_url: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(BUILTIN_POLICY.read_text(encoding="utf-8").replace("hours: 72", "hours: seventy-two"))
    checked = _run(database_url, tmp_path, "errors", "check-policy", str(policy))
    assert checked.exit_code == 2
    line = next(i + 1 for i, text in enumerate(policy.read_text().splitlines()) if "seventy-two" in text)
    assert f"line {line}: regulatory_clocks.personal_data_breach.hours" in checked.output
    fine = _run(database_url, tmp_path, "errors", "check-policy")
    assert "the built-in policy: 5 harms, 4 severities, 1 regulatory clocks: it loads" in fine.output


def test_the_clocks_run_on_demand(database_url: str, tmp_path: Path) -> None:
    ran = _run(database_url, tmp_path, "errors", "run-due")
    assert ran.exit_code == 0, ran.output
    assert "0 notices queued" in ran.output
