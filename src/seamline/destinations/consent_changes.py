"""`profile.consent_changed`: every new version of a consent or delivery choice, whatever recorded it (the API,
the preference page, the console, a tracked event or an import through the worker), announced to the destinations
subscribed to it, once.

Consent records its versions through one service that names each in the consent change feed (consent/feed.py);
this announcer is one reader of that feed, run by the worker's schedule: it takes the changes since its cursor and
queues the webhooks in the same transaction that moves the cursor, so a change is announced exactly once (a
rollback gives it back; two workers never take the same one). A replay (unmerge, rebuild) records no new version,
so it announces nothing; an erased person's changes are not announced.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from seamline.consent.changes import take_changes
from seamline.consent.config import ConsentConfig
from seamline.destinations.service import CONSENT_CHANGED, publish, subscribed_types
from seamline.identity.service import erased_profiles, roots_of

READER = "destinations"
ANNOUNCE_EVERY = timedelta(seconds=1)  # how often the worker's schedule looks at the feed


def announce_consent_changes(session: Session, *, consent: ConsentConfig, limit: int = 500) -> int:
    """Queue `profile.consent_changed` for the changes recorded since the last call; returns how many webhooks.

    The changes are taken even when no destination subscribes: a destination that subscribes later hears of
    changes from then on, as it does of traits. A consent change about a destination's own purpose reaches it even
    when the person withdrew that consent: it is what the receiving system must act on.
    """
    changes = take_changes(session, READER, limit=limit)
    if not changes or CONSENT_CHANGED not in subscribed_types(session):
        return 0
    roots = roots_of(session, [c.profile_id for c in changes])
    erased = erased_profiles(session, sorted(set(roots.values())))
    queued = 0
    for change in changes:
        profile_id = roots.get(change.profile_id, change.profile_id)
        if profile_id in erased:
            continue
        queued += publish(
            session,
            CONSENT_CHANGED,
            profile_id,
            change.announced(),
            consent=consent,
            occurred_at=change.recorded_at,
            notice_purpose=change.consented_purpose,
        )
    return queued


class ConsentAnnouncer:
    """The worker schedule's job: `announce_consent_changes` with the configured purposes."""

    def __init__(self, consent: ConsentConfig) -> None:
        self._consent = consent

    def __call__(self, session: Session, now: datetime) -> int:
        return announce_consent_changes(session, consent=self._consent)
