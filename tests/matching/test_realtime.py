"""Real-time matching on SQLite and PostgreSQL: a misspelt name finds the right profile first, with reasons, a
profile created after the index was built is found without a restart, and every change made by any process (an
erasure at once, a correction) reaches every process's index."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.core.principal import Principal
from seamline.corrections.service import correct_profile
from seamline.matching.model import TrainedModel
from seamline.matching.realtime import MatchIndex, match_record
from seamline.matching.records import MatchingContext, profile_records
from seamline.pipeline.registry import Pipeline
from seamline.privacy.service import erase_profile, open_request
from seamline.profiles.service import golden_values
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background, silo
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile


@pytest.fixture
def ctx(engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path) -> MatchingContext:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "first")
    built = matching_context(settings, trained_model)
    # Refresh on every request here; the default (2 s) is the staleness a live service accepts.
    return dataclasses.replace(built, config=built.config.model_copy(update={"realtime_refresh_seconds": 0.0}))


def test_a_misspelt_name_finds_the_right_profile_first(engine: Engine, ctx: MatchingContext) -> None:
    index = MatchIndex()
    with unit_of_work(engine, write=False) as session:
        found = match_record(
            session, ctx, index, {"first_name": "Wiliam", "last_name": "Hartwel", "date_of_birth": "1970-03-14"}
        )
    assert found[0].profile_id == _profile(engine, "CHK-T1", "checking")
    assert found[0].probability > 0.9
    reasons = {f.field: f for f in found[0].fields}
    assert reasons["first_name"].level == "one typo"
    assert reasons["last_name"].level == "one typo"
    assert reasons["date_of_birth"].level == "exact"
    assert reasons["address"].level == "missing"
    assert [c.match_weight for c in found] == sorted((c.match_weight for c in found), reverse=True)


def test_a_nickname_and_a_postcode_are_enough(engine: Engine, ctx: MatchingContext) -> None:
    with unit_of_work(engine, write=False) as session:
        found = match_record(
            session, ctx, MatchIndex(), {"first_name": "Bill", "last_name": "Hartwell", "postcode": "94107"}
        )
    assert found[0].profile_id in {_profile(engine, "CHK-T1", "checking"), _profile(engine, "CRD-T1", "cards")}


def test_new_profiles_are_found_without_a_restart(
    engine: Engine, settings: Settings, ctx: MatchingContext, tmp_path: Path
) -> None:
    index = MatchIndex()
    query = {"first_name": "Ottoline", "last_name": "Vasquez", "date_of_birth": "1991-12-03"}
    with unit_of_work(engine, write=False) as session:
        before = match_record(session, ctx, index, query)
    assert all(c.probability < 0.5 for c in before)
    newcomer = silo("mortgage", "MTG-NEW", "Ottoline", "Vasquez", "1991-12-03", "3 Quay Street", "94110")
    import_silos(engine, settings, [newcomer], tmp_path / "second")
    with unit_of_work(engine, write=False) as session:
        after = match_record(session, ctx, index, query)
    assert after[0].profile_id == _profile(engine, "MTG-NEW", "mortgage")


def test_bad_records_are_refused_naming_the_field(engine: Engine, ctx: MatchingContext) -> None:
    with unit_of_work(engine, write=False) as session:
        for record, field in (
            ({"firstname": "Ada"}, "record.firstname"),
            ({"first_name": 7}, "record.first_name"),
            ({}, "record"),
        ):
            with pytest.raises(InvalidInput) as refused:
                match_record(session, ctx, MatchIndex(), record)
            assert refused.value.errors[0].field == field


def test_an_app_started_with_a_model_fills_its_index_before_the_first_search(
    engine: Engine, settings: Settings, ctx: MatchingContext
) -> None:
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    with TestClient(create_app(settings)) as client:
        index: MatchIndex = client.app.state.matching.index
        deadline = time.monotonic() + 30
        while katherine not in index.records and time.monotonic() < deadline:
            time.sleep(0.05)
        assert katherine in index.records  # filled by the start-up thread: nobody has searched
        assert index.model is not None


KATHERINE_QUERY = {"first_name": "Katherine", "last_name": "Morrison", "date_of_birth": "1985-07-02"}
AGENT = Principal(name="console:alex", kind="operator", scopes=frozenset(), surface="console")


def _slow(ctx: MatchingContext) -> MatchingContext:
    """The context with a refresh interval far longer than the test: only the change feed can bring news."""
    return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"realtime_refresh_seconds": 3600.0}))


def _erase(engine: Engine, profile_id: int) -> None:
    with unit_of_work(engine) as session:
        erase_profile(session, open_request(session, "erasure", profile_id, requested_by="dpo").id)


def test_an_erasure_leaves_every_processs_index_before_its_next_answer(engine: Engine, ctx: MatchingContext) -> None:
    slow = _slow(ctx)
    katherine, kathryn = _profile(engine, "CHK-T2", "checking"), _profile(engine, KATHRYN.record_key, "mortgage")
    first, second = MatchIndex(), MatchIndex()  # the indexes of two API processes
    for index in (first, second):
        with unit_of_work(engine, write=False) as session:
            assert match_record(session, slow, index, KATHERINE_QUERY)[0].profile_id == katherine
    _erase(engine, katherine)  # by a third process (the CLI, say)
    for index in (first, second):
        with unit_of_work(engine, write=False) as session:
            found = {c.profile_id for c in match_record(session, slow, index, KATHERINE_QUERY)}
        assert katherine not in found
        assert kathryn in found  # her namesake in another silo, a profile of its own, is still served
        assert katherine not in index.records


def test_an_erased_profile_an_index_still_holds_is_never_a_candidate(engine: Engine, ctx: MatchingContext) -> None:
    slow = _slow(ctx)
    katherine = _profile(engine, "CHK-T2", "checking")
    index = MatchIndex()
    with unit_of_work(engine, write=False) as session:
        match_record(session, slow, index, KATHERINE_QUERY)
        held = dict(index.records[katherine])
    _erase(engine, katherine)
    with unit_of_work(engine, write=False) as session:
        match_record(session, slow, index, KATHERINE_QUERY)  # the index reads the feed and lets her go
        # An index that lags (its feed read could not see the erasure yet) still holds her record.
        index.put(katherine, held)
        found = match_record(session, slow, index, KATHERINE_QUERY)
    assert katherine not in {c.profile_id for c in found}
    assert katherine not in index.records


def test_a_correction_in_one_process_reaches_another_processs_index(
    engine: Engine, settings: Settings, ctx: MatchingContext
) -> None:
    katherine = _profile(engine, "CHK-T2", "checking")
    context = Pipeline(settings.identity, settings.consent)
    other = MatchIndex()
    with unit_of_work(engine, write=False) as session:
        match_record(session, ctx, other, KATHERINE_QUERY)
    # Morrow, back to Morrison, and Morrow again: the last restates a value the profile already holds, a change in
    # place (no new row), which only the change feed tells other processes about.
    for last_name in ("Morrow", "Morrison", "Morrow"):
        with unit_of_work(engine) as session:
            correct_profile(session, katherine, {"last_name": last_name}, actor=AGENT, context=context)
    with unit_of_work(engine, write=False) as session:
        assert golden_values(session, ["last_name"], {}, settings.survivorship, [katherine]) == {
            katherine: {"last_name": "Morrow"}
        }
        found = match_record(session, ctx, other, {**KATHERINE_QUERY, "last_name": "Morrow"})
        [expected] = profile_records(session, ctx, [katherine])
    assert other.records[katherine]["last_name"] == expected["last_name"] == "morrow"
    assert found[0].profile_id == katherine
