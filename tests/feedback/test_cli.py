"""`seamline feedback`: the survey files checked as the server loads them (a bad one named by file, line and
field), and the rollups and trend read from the store."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.service import AnswerInput, record_answers
from seamline.worker.triggers import feedback_setup
from tests.feedback.world import FeedbackWorld
from tests.triggers.world import rule_folder


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_check_lists_the_surveys_and_names_a_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    good = runner.invoke(app, ["feedback", "check"])
    assert good.exit_code == 0, good.output
    assert "csat_case" in good.output
    assert "branch_visit" in good.output
    assert "satisfaction* csat 1-5" in good.output  # csat_advice's questions; * the headline
    assert "waiting custom" in good.output
    (tmp_path / "bad.yaml").write_text("kind: csat\ntouchpoint: case_resolved\nquestion: Q?\nscale: {max: 7}\n")
    bad = runner.invoke(app, ["feedback", "check", str(tmp_path)])
    assert bad.exit_code == 1
    assert f"{tmp_path / 'bad.yaml'}:4: scale.max: a csat survey is answered from 1 to 5" in bad.output


def test_rollup_and_trend_read_the_answers(
    runner: CliRunner, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    world.customer("u-1")
    answers = [AnswerInput("csat_branch", 2, profile_id=world.profile("u-1"), about={"staff": "priya"})]
    with unit_of_work(engine) as session:
        record_answers(session, feedback_setup(settings), answers, via="api", now=utcnow())
    listed = runner.invoke(app, ["feedback", "rollup", "--by", "agent", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = orjson.loads(listed.output)
    assert (row["key"], row["answers"], row["unhappy"], row["figures"]) == (
        "priya", 1, 1, [{"kind": "csat", "answers": 1, "score": 0.0}],
    )  # fmt: skip
    trend = runner.invoke(app, ["feedback", "trend", "--bucket", "day"])
    assert trend.exit_code == 0, trend.output
    assert "CSAT" in trend.output
    questions = runner.invoke(app, ["feedback", "questions", "--json"])
    assert questions.exit_code == 0, questions.output
    assert [(r["survey"], r["question"], r["histogram"]) for r in orjson.loads(questions.output)] == [
        ("csat_branch", "csat", {"2": 1})
    ]
    bad = runner.invoke(app, ["feedback", "rollup", "--by", "colour"])
    assert bad.exit_code == 2
    assert "by: one of touchpoint" in bad.output
    assert runner.invoke(app, ["feedback", "rollup", "--days", "0"]).exit_code == 2
