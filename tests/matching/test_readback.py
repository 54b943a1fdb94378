"""Read-back on SQLite and PostgreSQL: every imported source record with the active profile it ended in and the
evidence of each join (a shared identifier at import, the matcher's pair, a reviewer's decision); erased people
left out; the same rows page by page; the CLI and the API export with scopes and audit."""

from __future__ import annotations

import csv
import io
import json
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
from seamline.matching.model import TrainedModel
from seamline.matching.readback import RecordRow, export_page, import_sources
from seamline.matching.records import MatchingContext
from seamline.matching.service import decide_review, list_reviews, run_batch
from seamline.privacy.service import erase_profile, open_request
from tests.matching.people import BILL, HANDMADE, KATHERINE, KATHRYN, MARY, WILLIAM, background, silo
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.support.flows import drain

# The same woman in two systems with one email: the identity graph joins her at import, no model involved.
ANNE = silo("checking", "CHK-T9", "Anne", "Oakley", "1966-02-11", "3 Ash Row", "73301", email="anne.oakley@example.org")
ANNE_CARDS = silo("cards", "CRD-T9", "Annie", "Oakley", None, None, None, email="anne.oakley@example.org")
RECORDS = [*HANDMADE, ANNE, ANNE_CARDS, *background(60)]


def _export(engine: Engine, ctx: MatchingContext, *, system: str | None = None, limit: int = 200) -> list[RecordRow]:
    rows: list[RecordRow] = []
    after: int | None = 0
    while after is not None:
        with unit_of_work(engine, write=False) as session:
            page = export_page(session, ctx, import_sources(session, system), after=after, limit=limit)
        rows.extend(page.rows)
        after = page.next_after
    return rows


@pytest.fixture
def audited_run(engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path) -> MatchingContext:
    """Imported, matched (William and Bill merged by the model), Katherine's pair accepted by a reviewer, Mary
    erased."""
    import_silos(engine, settings, RECORDS, tmp_path / "silos")
    ctx = matching_context(settings, trained_model)
    with unit_of_work(engine) as session:
        run_batch(session, ctx)
    drain(engine, settings)
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    with unit_of_work(engine, write=False) as session:
        pair = next(r for r in list_reviews(session) if {r.left_profile_id, r.right_profile_id} == {katherine, kathryn})
    with unit_of_work(engine) as session:
        decide_review(session, ctx, pair.id, "accept", "reviewer:ada", "same woman, moved")
    drain(engine, settings)
    mary = _profile(engine, MARY.record_key, "cards")
    with unit_of_work(engine) as session:
        erase_profile(session, open_request(session, "erasure", mary, requested_by="test").id)
    return ctx


def test_every_record_with_its_profile_and_the_evidence_of_each_join(
    engine: Engine, audited_run: MatchingContext
) -> None:
    rows = _export(engine, audited_run)
    by_record = {(r.system, r.record_key): r for r in rows}
    expected = {(r.system, r.record_key) for r in RECORDS} - {(MARY.system, MARY.record_key)}
    assert set(by_record) == expected  # one row per record; the erased person is not there
    assert len(rows) == len(expected)
    for r in rows:
        assert r.profile_id == _profile(engine, r.record_key, r.system)  # the active profile holding it now

    # merged by the matcher: the pair's score, model and field-by-field comparison
    william, bill = by_record[("checking", WILLIAM.record_key)], by_record[("cards", BILL.record_key)]
    assert william.profile_id == bill.profile_id
    (join,) = william.joins or bill.joins
    assert join["kind"] == "match"
    assert join["decided_by"] == "model"
    assert join["probability"] >= audited_run.config.merge_threshold
    assert join["model_version"] == 1
    fields = {f["field"]: f for f in join["fields"]}
    assert fields["first_name"]["level"] == "nickname"
    assert join["reviewer"] is None

    # merged by a person: who and when
    katherine, kathryn = by_record[("checking", KATHERINE.record_key)], by_record[("mortgage", KATHRYN.record_key)]
    assert katherine.profile_id == kathryn.profile_id
    (reviewed,) = katherine.joins or kathryn.joins
    assert reviewed["decided_by"] == "reviewer"
    assert reviewed["reviewer"] == "reviewer:ada"
    assert reviewed["reviewed_at"]
    assert reviewed["probability"] < audited_run.config.merge_threshold

    # joined at import on a shared identifier
    anne, annie = by_record[("checking", ANNE.record_key)], by_record[("cards", ANNE_CARDS.record_key)]
    assert anne.profile_id == annie.profile_id
    # the record that came first (cards is imported first) is where the profile began
    assert annie.joins == []
    (shared,) = anne.joins
    assert shared["kind"] == "identifier"
    assert (shared["identifier_type"], shared["identifier_value"]) == ("email", "anne.oakley@example.org")

    # a record nobody joined has no evidence to show
    assert by_record[("checking", "CHK-T3")].joins == []


def test_pages_give_the_same_rows_and_a_system_narrows_them(engine: Engine, audited_run: MatchingContext) -> None:
    whole = _export(engine, audited_run)
    assert [r.as_dict() for r in _export(engine, audited_run, limit=7)] == [r.as_dict() for r in whole]
    cards = _export(engine, audited_run, system="cards")
    assert cards
    assert {r.system for r in cards} == {"cards"}
    assert len(cards) == sum(r.system == "cards" for r in whole)


def test_cli_export_csv_and_jsonl_audited(
    engine: Engine, settings: Settings, audited_run: MatchingContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(settings.data_dir))
    runner = CliRunner()
    as_csv = runner.invoke(app, ["match", "export"])
    assert as_csv.exit_code == 0, as_csv.output
    table = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert len(table) == len(RECORDS) - 1
    bill = next(r for r in table if r["record_key"] in (BILL.record_key, WILLIAM.record_key) and r["joins"] == "1")
    assert bill["join_kinds"] == "match:model"
    assert json.loads(bill["evidence"])[0]["model_version"] == 1

    out = tmp_path / "cards.jsonl"
    as_jsonl = runner.invoke(app, ["match", "export", "--format", "jsonl", "--system", "cards", "--out", str(out)])
    assert as_jsonl.exit_code == 0, as_jsonl.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines
    assert all(line["system"] == "cards" for line in lines)
    assert runner.invoke(app, ["match", "export", "--system", "nowhere"]).exit_code == 1
    assert runner.invoke(app, ["match", "export", "--format", "xml"]).exit_code == 2
    with unit_of_work(engine, write=False) as session:
        reads = entries(session, subject_type="profile", subject_id="readback", limit=500)
    assert reads
    assert all(e.action == "read" and e.subject_type == "profile" for e in reads)
    assert any(bill_profile in e.detail["profiles"] for e in reads for bill_profile in [int(bill["profile_id"])])


def test_api_export_streams_with_the_read_scope(
    client: TestClient, engine: Engine, audited_run: MatchingContext
) -> None:
    with unit_of_work(engine) as session:
        reader = {"Authorization": f"Bearer {create_api_key(session, 'auditor', ['matching:read'])[1]}"}
        other = {"Authorization": f"Bearer {create_api_key(session, 'crm', ['profiles:read'])[1]}"}
    assert client.get("/v1/matching/export").status_code == 401
    assert client.get("/v1/matching/export", headers=other).status_code == 403
    answer = client.get("/v1/matching/export", params={"format": "jsonl"}, headers=reader)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in answer.text.splitlines()]
    assert len(rows) == len(RECORDS) - 1
    assert not any(r["record_key"] == MARY.record_key for r in rows)
    as_csv = client.get("/v1/matching/export", params={"system": "mortgage"}, headers=reader)
    assert as_csv.status_code == 200
    assert {r["system"] for r in csv.DictReader(io.StringIO(as_csv.text))} == {"mortgage"}
    missing = client.get("/v1/matching/export", params={"system": "nowhere"}, headers=reader)
    assert missing.status_code == 404
    bad = client.get("/v1/matching/export", params={"format": "xml"}, headers=reader)
    assert bad.status_code == 400
    assert "format" in bad.text
    with unit_of_work(engine, write=False) as session:
        assert entries(session, subject_type="profile", subject_id="readback", actor="auditor")
