"""The columnar copy follows the store: appended events are read by watermark, merges move the copy's rows to the
survivor, and an erasure (or events taken away) reads it whole again, so an erased person is gone from the
reports at the next refresh."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, update

from seamline.analytics.service import Analytics, FunnelQuery, Period
from seamline.core.db import unit_of_work
from seamline.identity.models import Merge, Profile
from seamline.ingestion.models import InboxEvent
from seamline.privacy.service import erase_profile, open_request
from seamline.profiles.models import ProfileEvent
from tests.analytics.world import FUNNEL, T, build

QUERY = FunnelQuery(FUNNEL[:2], Period(), window_hours=24 * 7)


def _add_event(engine: Engine, event_id: int, profile_id: int, name: str, hours: float) -> None:
    at = T + timedelta(hours=hours)
    with unit_of_work(engine) as session:
        session.add(InboxEvent(id=event_id, source_id=1, message_id=f"late{event_id}", type="track", partition=0,
                               received_at=at, payload='{"type": "track"}'))  # fmt: skip
        session.flush()
        session.add(ProfileEvent(event_id=event_id, profile_id=profile_id, source_id=1, type="track", name=name,
                                 channel="web", occurred_at=at))  # fmt: skip


def test_new_events_and_merges_reach_the_copy(engine: Engine) -> None:
    world = build(engine)
    analytics = Analytics(engine, refresh_seconds=0)
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [8, 4]
    _add_event(engine, 1000, world.person("P4"), "Documents Uploaded", 5)
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [8, 5]
    # An event below the watermark committed late (workers commit partitions out of id order) is read too.
    _add_event(engine, 900, world.person("P6"), "Documents Uploaded", 2)
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [8, 6]

    # A stranger uploads; then identity learns the stranger is P8: the upload moves to P8, who converts.
    with unit_of_work(engine) as session:
        row = Profile(created_at=T, updated_at=T)
        session.add(row)
        session.flush()
        stranger = int(row.id)
    _add_event(engine, 1001, stranger, "Documents Uploaded", 6)
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [8, 6]
    with unit_of_work(engine) as session:
        moved = update(ProfileEvent).where(ProfileEvent.profile_id == stranger)
        session.execute(moved.values(profile_id=world.person("P8")))
        session.add(Merge(profile_id=world.person("P8"), merged_profile_id=stranger, rule="test", created_at=T))
    # The store's rows moved (as the profiles consumer moves them); the copy follows the merge row.
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [8, 7]


def test_an_erased_person_leaves_the_reports_at_the_next_refresh(engine: Engine) -> None:
    world = build(engine)
    analytics = Analytics(engine, refresh_seconds=0)
    dropped = analytics.people(QUERY, step=1, outcome="dropped")
    assert world.person("P4") in dropped.profile_ids
    with unit_of_work(engine) as session:
        erase_profile(session, open_request(session, "erasure", world.person("P4"), requested_by="dpo").id)
    after = analytics.people(QUERY, step=1, outcome="dropped")
    assert world.person("P4") not in after.profile_ids
    assert [f.reached for f in analytics.funnel(QUERY).overall] == [7, 4]
    view = analytics.paths(QUERY, at=1, depth=2)
    assert sum(p.people for p in view.paths) == 3  # P4's reminder and call are no longer anyone's detour
