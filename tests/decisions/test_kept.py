"""What a decision keeps between calls: each lookup for at most its time to live, loaded again by the caller that
finds it stale (with that caller's own load, so never through an earlier caller's closed session)."""

from __future__ import annotations

from sqlalchemy import create_engine

from seamline.decisions.person import Kept


def test_a_kept_value_is_reused_within_its_time_and_loaded_again_by_whoever_finds_it_stale() -> None:
    engine = create_engine("sqlite://")
    kept = Kept(ttl=60.0)
    assert kept.get(engine, "model:all", lambda: "first") == "first"
    assert kept.get(engine, "model:all", lambda: "second") == "first"
    assert kept.get(engine, "model:vip", lambda: "vip") == "vip"  # each key its own
    stale = Kept(ttl=0.0)
    assert stale.get(engine, "model:all", lambda: "first") == "first"
    assert stale.get(engine, "model:all", lambda: "second") == "second"
    engine.dispose()
