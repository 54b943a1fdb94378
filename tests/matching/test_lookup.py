"""Finding customers by a typed name: the query read as a record (pure), and the matcher when a model is trained
with the plain name search before it and whenever the matcher finds nobody, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.lookup import find_by_name, query_record
from seamline.matching.model import TrainedModel
from seamline.matching.realtime import Matcher, MatchIndex
from seamline.profiles.service import find_by_name as plain_find_by_name
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background, silo
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile

# Both ends of both names are wrong, so the plain search (three right letters at one end) cannot find her; both
# sound as her names do.
SOUNDS_LIKE_KATHERINE = "Cathrin Maurisen"


@pytest.mark.parametrize(
    ("query", "record"),
    [
        ("Ada Lovelace", {"first_name": "Ada", "last_name": "Lovelace"}),
        ("lovelase", {"last_name": "lovelase"}),
        ("Lovelace, Ada", {"first_name": "Ada", "last_name": "Lovelace"}),
        ("Ada Byron Lovelace", {"first_name": "Ada", "last_name": "Lovelace"}),
        (
            "Mary-Jane O'Brien 1980-04-02",
            {"first_name": "Mary-Jane", "last_name": "O'Brien", "date_of_birth": "1980-04-02"},
        ),
        ("Jon Smiht +1 415 555 0123", {"first_name": "Jon", "last_name": "Smiht", "phone": "+1 415 555 0123"}),
        ("12345678", {}),
        ("1980-04-02", {}),
    ],
)
def test_a_query_is_read_as_a_record(query: str, record: dict[str, str]) -> None:
    assert query_record(query) == record


@pytest.fixture
def silos(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "silos")


def _matcher(settings: Settings, model: TrainedModel | None) -> Matcher:
    ctx = matching_context(settings, model)
    # Refresh on every request here; the default (2 s) is the staleness a live service accepts.
    return Matcher(
        dataclasses.replace(ctx, config=ctx.config.model_copy(update={"realtime_refresh_seconds": 0.0})), MatchIndex()
    )


def test_a_misspelt_name_is_found_through_the_matcher(
    engine: Engine, settings: Settings, trained_model: TrainedModel, silos: None, tmp_path: Path
) -> None:
    matcher = _matcher(settings, trained_model)
    her = {_profile(engine, KATHERINE.record_key, "checking"), _profile(engine, KATHRYN.record_key, "mortgage")}
    with unit_of_work(engine, write=False) as session:
        assert not her & {m.profile_id for m in plain_find_by_name(session, SOUNDS_LIKE_KATHERINE)}
        hits = find_by_name(session, matcher, SOUNDS_LIKE_KATHERINE, limit=5)
    assert {h.profile_id for h in hits[:2]} == her
    assert all(h.method == "matcher" for h in hits)
    assert "last name sounds alike" in hits[0].matched
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    # A customer stored after the index was built is found on the next search (the index refreshes itself).
    import_silos(
        engine, settings, [silo("mortgage", "MTG-NEW", "Ottoline", "Vasquez", None, None, None)], tmp_path / "new"
    )
    with unit_of_work(engine, write=False) as session:
        fresh = find_by_name(session, matcher, "Otoline Vasqez", limit=5)
    assert fresh[0].profile_id == _profile(engine, "MTG-NEW", "mortgage")


def test_the_plain_search_answers_without_a_model_or_when_the_matcher_finds_nobody(
    engine: Engine, settings: Settings, trained_model: TrainedModel, silos: None
) -> None:
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    with unit_of_work(engine, write=False) as session:
        before = find_by_name(session, _matcher(settings, None), "Katherine Morrisen")
        by_ear = find_by_name(session, _matcher(settings, None), SOUNDS_LIKE_KATHERINE)
        # A lone last name has no blocking key of its own: the matcher finds nobody, the plain search answers.
        alone = find_by_name(session, _matcher(settings, trained_model), "Morrisson")
    assert katherine in [h.profile_id for h in before]
    assert katherine not in [h.profile_id for h in by_ear]  # what the matcher adds
    assert {h.method for h in before} == {"plain"}
    assert alone
    assert {h.method for h in alone} == {"plain"}
