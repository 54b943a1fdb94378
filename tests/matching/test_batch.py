"""A batch run over imported silo records on SQLite and PostgreSQL: every outcome band, merges through the identity
graph (explained, and undone exactly by unmerge), and the review queue's accept and reject."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, InvalidInput
from seamline.identity.service import merge_history, root_of
from seamline.matching.model import TrainedModel
from seamline.matching.records import MatchingContext
from seamline.matching.service import RunSummary, decide_review, get_review, list_reviews, run_batch
from seamline.pipeline import replay
from seamline.pipeline.registry import Pipeline
from seamline.synthetic.silos import SiloRecord
from tests.matching.people import (
    BILL,
    HANDMADE,
    JOHN,
    KATHERINE,
    KATHRYN,
    MARY,
    PAUL,
    PETER,
    WILLIAM,
    background,
    silo,
)
from tests.matching.silos import import_silos, matching_context
from tests.support.flows import drain, snapshot


def _profile(engine: Engine, record_key: str, system: str) -> int:
    """The active profile holding a silo record's key."""
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT profile_id FROM identifiers WHERE type = :t AND value = :v"),
            {"t": f"ext:{system}_customer", "v": record_key},
        ).scalar_one()
    return int(found)


def _run(engine: Engine, ctx: MatchingContext) -> RunSummary:
    with unit_of_work(engine) as session:
        return run_batch(session, ctx)


@pytest.fixture
def matched(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> tuple[MatchingContext, RunSummary]:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path)
    ctx = matching_context(settings, trained_model)
    summary = _run(engine, ctx)
    return ctx, summary


def test_every_band_merge_review_apart(
    engine: Engine, settings: Settings, matched: tuple[MatchingContext, RunSummary]
) -> None:
    ctx, summary = matched
    william, bill = _profile(engine, WILLIAM.record_key, "checking"), _profile(engine, BILL.record_key, "cards")
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    john, mary = _profile(engine, JOHN.record_key, "checking"), _profile(engine, MARY.record_key, "cards")
    assert william != bill  # a match merges nothing by itself: the worker applies the event
    assert summary.merges >= 1
    assert summary.reviews >= 1

    drain(engine, settings)
    # merged automatically, through the identity graph, explained by the match
    assert _profile(engine, WILLIAM.record_key, "checking") == _profile(engine, BILL.record_key, "cards")
    root = _profile(engine, WILLIAM.record_key, "checking")
    with unit_of_work(engine, write=False) as session:
        merges = [m for m in merge_history(session, root) if m.rule == "match"]
        assert merges, "the merge is recorded with the match rule"
        pending = list_reviews(session)
    with engine.connect() as conn:
        payload = conn.execute(
            text("SELECT payload FROM inbox_events WHERE id = :e"), {"e": merges[0].event_id}
        ).scalar_one()
    assert '"match"' in payload
    assert '"model_version"' in payload
    # uncertain: in the review queue, with each field's part in the score
    review = next(r for r in pending if {r.left_profile_id, r.right_profile_id} == {katherine, kathryn})
    assert ctx.config.review_threshold <= review.probability < ctx.config.merge_threshold
    fields = {f["field"]: f for f in review.fields}
    assert fields["date_of_birth"]["level"] == "exact"
    assert fields["date_of_birth"]["weight"] > 0
    assert fields["address"]["level"] == "differs"
    assert fields["address"]["weight"] < 0
    assert _profile(engine, KATHERINE.record_key, "checking") != _profile(engine, KATHRYN.record_key, "mortgage")
    # kept apart: no pair stored, still two people
    assert not any({r.left_profile_id, r.right_profile_id} == {john, mary} for r in pending)
    assert _profile(engine, JOHN.record_key, "checking") != _profile(engine, MARY.record_key, "cards")
    # a second run adds nothing: merged pairs are one profile, pending ones are not asked twice
    again = _run(engine, ctx)
    assert again.reviews == 0


def test_automatic_merge_is_undone_exactly_by_unmerge(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    import_silos(engine, settings, [WILLIAM, BILL, *background()], tmp_path)
    william, bill = _profile(engine, WILLIAM.record_key, "checking"), _profile(engine, BILL.record_key, "cards")
    before = snapshot(engine, [william, bill])
    _run(engine, matching_context(settings, trained_model))
    drain(engine, settings)
    root = _profile(engine, WILLIAM.record_key, "checking")
    assert root == _profile(engine, BILL.record_key, "cards")
    with unit_of_work(engine, write=False) as session:
        merge = next(m for m in merge_history(session, root) if m.rule == "match")
    with unit_of_work(engine) as session:
        replay.unmerge(session, merge.id, Pipeline(settings.identity, settings.consent), actor="test", reason="wrong")
    after = snapshot(engine, [william, bill])
    # Both sides exactly as before; the match event itself stays on the log, on one side's timeline.
    match_events = {merge.event_id}
    for pid in (william, bill):
        assert {**after[pid], "events": [e for e in after[pid]["events"] if e not in match_events]} == before[pid]
    assert sum(merge.event_id in after[pid]["events"] for pid in (william, bill)) == 1
    # the next batch run does not merge them again: the unmerge's block holds
    _run(engine, matching_context(settings))
    drain(engine, settings)
    assert _profile(engine, WILLIAM.record_key, "checking") != _profile(engine, BILL.record_key, "cards")


def test_accepting_a_review_merges_and_rejecting_keeps_apart(
    engine: Engine, settings: Settings, matched: tuple[MatchingContext, RunSummary]
) -> None:
    ctx, _summary = matched
    drain(engine, settings)
    with unit_of_work(engine, write=False) as session:
        pending = list_reviews(session)
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    peter, paul = _profile(engine, PETER.record_key, "checking"), _profile(engine, PAUL.record_key, "cards")
    accept = next(r for r in pending if {r.left_profile_id, r.right_profile_id} == {katherine, kathryn})
    # the twins score like one person, but the household guard holds them for a person to decide
    reject = next(r for r in pending if {r.left_profile_id, r.right_profile_id} == {peter, paul})
    assert reject.probability >= ctx.config.merge_threshold
    with unit_of_work(engine) as session:
        accepted = decide_review(session, ctx, accept.id, "accept", "ana@bank", "same DOB, moved in 2021")
        rejected = decide_review(session, ctx, reject.id, "reject", "ana@bank", "different people")
    assert (accepted.status, rejected.status) == ("accepted", "rejected")
    drain(engine, settings)
    assert _profile(engine, KATHERINE.record_key, "checking") == _profile(engine, KATHRYN.record_key, "mortgage")
    with unit_of_work(engine, write=False) as session:
        assert get_review(session, reject.id).note == "different people"
        labels = list_reviews(session, status="accepted") + list_reviews(session, status="rejected")
        assert {v.id for v in labels} >= {accept.id, reject.id}
        assert get_review(session, accept.id).decided_by == "ana@bank"
        merges = merge_history(session, _profile(engine, KATHERINE.record_key, "checking"))
        assert any(m.rule == "match" for m in merges)
    # rejected stays apart in later runs; a decided pair cannot be decided again
    _run(engine, ctx)
    drain(engine, settings)
    with unit_of_work(engine, write=False) as session:
        assert root_of(session, reject.left_profile_id) != root_of(session, reject.right_profile_id)
        with pytest.raises(Conflict):
            decide_review(session, ctx, reject.id, "accept", "bob", None)
        with pytest.raises(InvalidInput):
            decide_review(session, ctx, accept.id, "maybe", "bob", None)


def test_a_second_run_before_the_worker_sends_nothing_twice(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path)
    ctx = matching_context(settings, trained_model)
    first = _run(engine, ctx)
    second = _run(engine, ctx)
    assert first.merges > 0
    assert (second.merges, second.reviews) == (0, 0)


def test_national_ids_one_typo_apart_merge_when_certain_without_the_id_keeping_both_as_a_finding(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    ada = silo("checking", "CHK-T9", "Ada", "Lovelace", "1815-12-10", "12 Elm Street", "94107", national_id="900123456")
    typo = silo("cards", "CRD-T9", "Ada", "Lovelace", "1815-12-10", "12 Elm Street", "94107", national_id="900123465")
    import_silos(engine, settings, [ada, typo, *background()], tmp_path)
    summary = _run(engine, matching_context(settings, trained_model))
    assert summary.id_typos == 1
    left, right = _profile(engine, ada.record_key, "checking"), _profile(engine, typo.record_key, "cards")
    with unit_of_work(engine, write=False) as session:
        stored = list_reviews(session, status="merged", limit=500)
    merged = next(p for p in stored if {p.left_profile_id, p.right_profile_id} == {left, right})
    assert merged.note is not None
    assert merged.note.startswith("data-quality finding")
    drain(engine, settings)
    survivor = _profile(engine, ada.record_key, "checking")
    assert survivor == _profile(engine, typo.record_key, "cards")
    with engine.connect() as conn:
        held = conn.execute(
            text("SELECT value FROM identifiers WHERE type = 'national_id' AND profile_id = :p"), {"p": survivor}
        ).scalars()
        assert set(held) == {"900123456", "900123465"}
        findings = conn.execute(
            text("SELECT identifier_value, other_profile_id FROM identity_conflicts WHERE reason = 'id_typo'")
        ).all()
    assert len(findings) == 1
    assert findings[0][0] in {"900123456", "900123465"}
    assert findings[0][1] in {left, right} - {survivor}


def test_a_person_whose_id_two_sources_mistyped_ends_in_one_profile_holding_all_three(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    """Sources mistype one person's id independently: a later run joins a third id to the profile that already
    holds two, and the identity graph takes all three as one person's (each absorbed one a finding)."""

    def ada(system: str, key: str, national_id: str) -> SiloRecord:
        return silo(system, key, "Ada", "Lovelace", "1815-12-10", "12 Elm Street", "94107", national_id=national_id)

    checking, cards = ada("checking", "CHK-T9", "900123456"), ada("cards", "CRD-T9", "900123465")
    import_silos(engine, settings, [checking, cards, *background()], tmp_path / "first")
    ctx = matching_context(settings, trained_model)
    assert _run(engine, ctx).id_typos == 1
    drain(engine, settings)
    # a third system, imported later, holds the id with another digit changed (a thousand away: no sequence)
    mortgage = ada("mortgage", "MTG-T9", "900124456")
    import_silos(engine, settings, [mortgage], tmp_path / "second")
    assert _run(engine, ctx).id_typos == 1
    drain(engine, settings)
    survivor = _profile(engine, checking.record_key, "checking")
    assert survivor == _profile(engine, cards.record_key, "cards") == _profile(engine, mortgage.record_key, "mortgage")
    with engine.connect() as conn:
        held = conn.execute(
            text("SELECT value FROM identifiers WHERE type = 'national_id' AND profile_id = :p"), {"p": survivor}
        ).scalars()
        assert set(held) == {"900123456", "900123465", "900124456"}
        findings = conn.execute(text("SELECT count(*) FROM identity_conflicts WHERE reason = 'id_typo'")).scalar_one()
    assert findings == 2
