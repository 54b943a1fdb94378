"""Data-quality findings on SQLite and PostgreSQL: a merged pair whose records hold national ids one typo apart is
listed with the system and record holding each id, narrowed by system, through the CLI and the API (scoped and
audited), and gone once the person is erased."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import create_api_key
from seamline.audit.service import entries
from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.findings import IdFinding, finding_of, findings_page, holders_of
from seamline.matching.model import TrainedModel
from seamline.matching.models import MatchPair
from seamline.matching.readback import import_sources
from seamline.matching.service import run_batch
from seamline.privacy.service import erase_profile, open_request
from tests.matching.people import background, silo
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.support.flows import drain

ADA = silo("checking", "CHK-T9", "Ada", "Lovelace", "1815-12-10", "12 Elm Street", "94107", national_id="900123456")
ADA_CARDS = silo("cards", "CRD-T9", "Ada", "Lovelace", "1815-12-10", "12 Elm Street", "94107", national_id="900123465")


def _findings(engine: Engine, *, system: str | None = None, limit: int = 200) -> list[IdFinding]:
    found: list[IdFinding] = []
    after: int | None = 0
    while after is not None:
        with unit_of_work(engine, write=False) as session:
            page = findings_page(session, import_sources(session), system=system, after=after, limit=limit)
        found += page.findings
        after = page.next_after
    return found


@pytest.fixture
def matched(engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path) -> int:
    """Ada's two records merged by the model with both ids kept; the profile they live in."""
    import_silos(engine, settings, [ADA, ADA_CARDS, *background(40)], tmp_path / "silos")
    with unit_of_work(engine) as session:
        run_batch(session, matching_context(settings, trained_model))
    drain(engine, settings)
    survivor = _profile(engine, ADA.record_key, "checking")
    assert survivor == _profile(engine, ADA_CARDS.record_key, "cards")
    return survivor


def test_a_merged_pair_with_ids_one_typo_apart_names_where_each_id_is_held(engine: Engine, matched: int) -> None:
    found = _findings(engine)
    assert len(found) == 1
    finding = found[0]
    assert (finding.kind, finding.status) == ("id_typo", "merged")
    held = {h.value: h for h in finding.ids}
    assert set(held) == {"900123456", "900123465"}
    assert (held["900123456"].systems, held["900123465"].systems) == (["checking"], ["cards"])
    assert held["900123456"].records == [f"checking:{ADA.record_key}"]
    assert held["900123465"].records == [f"cards:{ADA_CARDS.record_key}"]
    assert {h.profile_id for h in finding.ids} == {matched}  # both now on the one profile
    assert _findings(engine, limit=1)[0].as_dict() == finding.as_dict()
    assert len(_findings(engine, system="cards")) == 1
    assert _findings(engine, system="mortgage") == []


def test_cli_and_api_list_findings_scoped_and_audited(
    engine: Engine, settings: Settings, client: TestClient, matched: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    as_csv = runner.invoke(app, ["match", "findings", "--system", "checking"])
    assert as_csv.exit_code == 0, as_csv.output
    lines = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert sorted((r["national_id"], r["systems"], r["kind"]) for r in lines) == [
        ("900123456", "checking", "id_typo"),
        ("900123465", "cards", "id_typo"),
    ]
    assert runner.invoke(app, ["match", "findings", "--system", "nowhere"]).exit_code == 1
    assert runner.invoke(app, ["match", "findings", "--format", "xml"]).exit_code == 2

    with unit_of_work(engine) as session:
        reader = {"Authorization": f"Bearer {create_api_key(session, 'auditor', ['matching:read'])[1]}"}
        other = {"Authorization": f"Bearer {create_api_key(session, 'crm', ['profiles:read'])[1]}"}
    assert client.get("/v1/matching/findings").status_code == 401
    assert client.get("/v1/matching/findings", headers=other).status_code == 403
    answer = client.get("/v1/matching/findings", headers=reader)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in answer.text.splitlines()]
    assert [sorted(i["systems"][0] for i in r["ids"]) for r in rows] == [["cards", "checking"]]
    assert client.get("/v1/matching/findings", params={"system": "nowhere"}, headers=reader).status_code == 404
    bad = client.get("/v1/matching/findings", params={"format": "xml"}, headers=reader)
    assert bad.status_code == 400
    assert "format" in bad.text
    with unit_of_work(engine, write=False) as session:
        reads = entries(session, subject_type="profile", subject_id="id-findings", limit=50)
    assert len(reads) == 2  # the CLI's page and the API's
    assert all(matched in e.detail["profiles"] for e in reads)


def test_an_erased_person_has_no_findings(engine: Engine, matched: int) -> None:
    with unit_of_work(engine) as session:
        erase_profile(session, open_request(session, "erasure", matched, requested_by="test").id)
    assert _findings(engine) == []


def test_ids_that_differ_outright_are_their_own_kind() -> None:
    pair = MatchPair(
        id=7, left_profile_id=1, right_profile_id=2, status="pending", created_at=datetime(2026, 1, 2, tzinfo=UTC),
        left_values={"national_id": "900123456"}, right_values={"national_id": "511222333"},
    )  # fmt: skip
    links = [(1, "national_id", "900-12-3456", 3, 10), (1, "anonymous_id", "crm:C1", 3, 10)]
    finding = finding_of(pair, {1: 1, 2: 2}, holders_of(links, {3: "crm"}))
    assert finding.kind == "id_differs"
    assert [(h.value, h.profile_id, h.systems, h.records) for h in finding.ids] == [
        ("900123456", 1, ["crm"], ["crm:C1"]),  # the link's own form (dashes) is read as matching compares it
        ("511222333", 2, [], []),
    ]
