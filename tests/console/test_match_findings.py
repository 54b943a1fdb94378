"""The supervisors' page of national ids that differ, on SQLite and PostgreSQL: each pair with both ids masked, the
systems and records holding each, both customers named and linked, every customer shown audited, agents refused."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from seamline.matching.service import run_batch
from tests.console.conftest import SignIn
from tests.matching.people import background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.matching.test_findings import ADA, ADA_CARDS
from tests.support.flows import drain


def test_supervisors_see_each_id_masked_with_the_systems_holding_it(
    console: TestClient,
    sign_in: SignIn,
    engine: Engine,
    settings: Settings,
    trained_model: TrainedModel,
    tmp_path: Path,
) -> None:
    sign_in("supervisor")
    empty = console.get("/console/matches/findings")
    assert empty.status_code == 200
    assert "No compared records hold national ids that differ." in empty.text

    import_silos(engine, settings, [ADA, ADA_CARDS, *background(40)], tmp_path / "silos")
    with unit_of_work(engine) as session:
        run_batch(session, matching_context(settings, trained_model))
    drain(engine, settings)
    ada = _profile(engine, ADA.record_key, "checking")
    page = console.get("/console/matches/findings")
    assert page.status_code == 200
    assert "<code>•••••3456</code> · checking (checking:CHK-T9)" in page.text
    assert "<code>•••••3465</code> · cards (cards:CRD-T9)" in page.text
    assert "900123456" not in page.text
    assert "900123465" not in page.text
    assert f'<a href="/console/customers/{ada}"><bdi>Ada Lovelace</bdi> #{ada}</a>' in page.text
    assert "one typo apart" in page.text
    assert "merged by the model" in page.text
    assert 'href="/console/matches/findings"' in console.get("/console/matches").text
    with unit_of_work(engine, write=False) as session:
        read = [e for e in entries(session, limit=500) if e.detail.get("view") == "console_findings"]
    assert [int(e.subject_id) for e in read] == [ada]
    assert console.get("/console/matches/findings?after=x").status_code == 400

    sign_in("agent")
    assert console.get("/console/matches/findings").status_code == 403
