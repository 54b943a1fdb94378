"""Erasure reaches matching: the erased person's side of every stored pair loses the values it was compared on."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from seamline.matching.service import get_review, list_reviews, run_batch
from seamline.privacy.service import erase_profile, open_request
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background
from tests.matching.silos import import_silos, matching_context


def test_erasure_scrubs_the_persons_side_of_a_pair_and_keeps_the_other(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path)
    ctx = matching_context(settings, trained_model)
    with unit_of_work(engine) as session:
        run_batch(session, ctx)
    with engine.connect() as conn:
        katherine, kathryn = (
            conn.execute(
                text("SELECT profile_id FROM identifiers WHERE type = :t AND value = :v"),
                {"t": f"ext:{system}_customer", "v": key},
            ).scalar_one()
            for system, key in (("checking", KATHERINE.record_key), ("mortgage", KATHRYN.record_key))
        )
    with unit_of_work(engine, write=False) as session:
        review = next(
            r for r in list_reviews(session) if {r.left_profile_id, r.right_profile_id} == {katherine, kathryn}
        )
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", katherine, requested_by="test")
        done = erase_profile(session, request.id)
    assert done.result["match_pairs_erased"] >= 1

    with unit_of_work(engine, write=False) as session:
        after = get_review(session, review.id)
    erased_side = "left" if after.left_profile_id == katherine else "right"
    kept_side = "right" if erased_side == "left" else "left"
    assert all(f[erased_side] == "[erased]" for f in after.fields)
    assert any(f[kept_side] not in (None, "[erased]") for f in after.fields)  # Katharine's values are hers to keep
    assert after.probability == review.probability  # the judgement stays: it names nobody
    with engine.connect() as conn:
        stored = " ".join(
            str(v)
            for row in conn.execute(text("SELECT left_values, right_values, comparison FROM match_pairs"))
            for v in row
        ).lower()
    assert "katherine" not in stored
    assert "katharine" in stored
