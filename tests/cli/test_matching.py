"""`seamline match`: train, run, list and show reviews, accept and reject, find by record."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.service import list_reviews
from tests.matching.people import HANDMADE, background, silo
from tests.matching.silos import import_silos
from tests.support.flows import drain


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SEAMLINE_MATCHING__U_MAX_PAIRS", "200000")
    # A cautious operator's band (the default is 0.95): the moved Katherine (about 0.985 on this small table) waits
    # for a reviewer beside the twins, so there are two pairs to accept and reject.
    monkeypatch.setenv("SEAMLINE_MATCHING__MERGE_THRESHOLD", "0.995")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


# A second pair of twins (one address, landline and birthday, two first names): the household guard sends them to
# review whatever their score, so a run always leaves two pairs to decide, one to accept and one to reject.
TWINS = [
    silo("checking", "CHK-T9", "Rosa", "Ferriby", "1988-11-09", "3 Quarry Row", "73301", "+15125550147", person="r"),
    silo("cards", "CRD-T9", "Clara", "Ferriby", "1988-11-09", "3 Quarry Row", "73301", "+15125550147", person="c"),
]


def test_train_run_review_and_find(runner: CliRunner, engine: Engine, settings: Settings, tmp_path: Path) -> None:
    import_silos(engine, settings, [*HANDMADE, *TWINS, *background(250)], tmp_path / "silos")
    trained = runner.invoke(app, ["match", "train"])
    assert trained.exit_code == 0, trained.output
    assert "model v1" in trained.output
    assert (settings.data_dir / "models" / "model-0001.json").is_file()

    ran = runner.invoke(app, ["match", "run"])
    assert ran.exit_code == 0, ran.output
    assert "model v1" in ran.output
    assert "to review:" in ran.output
    drain(engine, settings)

    listed = runner.invoke(app, ["match", "reviews"])
    assert listed.exit_code == 0, listed.output
    with unit_of_work(engine, write=False) as session:
        pending = list_reviews(session)
    assert len(pending) >= 2
    shown = runner.invoke(app, ["match", "show", str(pending[0].id)])
    assert shown.exit_code == 0, shown.output
    assert "date_of_birth" in shown.output

    accepted = runner.invoke(app, ["match", "accept", str(pending[0].id), "--note", "same person"])
    assert accepted.exit_code == 0, accepted.output
    rejected = runner.invoke(app, ["match", "reject", str(pending[1].id)])
    assert rejected.exit_code == 0, rejected.output
    twice = runner.invoke(app, ["match", "reject", str(pending[1].id)])
    assert twice.exit_code == 1
    missing = runner.invoke(app, ["match", "show", "999999"])
    assert missing.exit_code == 1

    # a second training uses the accepted pair as a label
    retrained = runner.invoke(app, ["match", "train"])
    assert retrained.exit_code == 0, retrained.output
    assert "model v2" in retrained.output
    assert "1 accepted label" in retrained.output

    found = runner.invoke(
        app, ["match", "find", "--first-name", "Wiliam", "--last-name", "Hartwel", "--dob", "1970-03-14"]
    )
    assert found.exit_code == 0, found.output
    assert "first_name one typo" in found.output
    bad = runner.invoke(app, ["match", "find", "--dob", "1970-03-14", "--limit", "0"])
    assert bad.exit_code == 2
