"""A small store whose every funnel, detour, cross-channel and identification figure is computed by hand in the
tests. T = 2026-11-02 09:00 UTC. Funnel: Application Started → Documents Uploaded → Application Submitted →
Offer Accepted, window 7 days.

| person | entry (channel, device, source) | what happened |
| --- | --- | --- |
| P1 | web, —, web-site, mortgage | started T, uploaded +1h, submitted +2h, accepted +1d |
| P2 | mobile, ios, mobile-app, mortgage | started T, uploaded +30m, submitted +1h30m |
| P3 | web, —, web-site, mortgage | started T, uploaded +3h; reminder email +1d, phoned (case) +1d2h |
| P4 | web, —, web-site, card | started T; reminder email +1d, phoned +2d |
| P5 | mobile, android, mobile-app, card | started T; uploaded +9d (outside the window) |
| P6 | web, —, web-site, card | started T; submitted +1h without uploading |
| P7 | web | started 2026-10-20 (before the period), uploaded |
| P8 | web, —, web-site, card | started T; reminder email +1d, phoned +1d1h |

Journey apply_for_mortgage (steps income, property): I1 (P1) web → income web/desktop +1h → property mobile/ios
+2h, completed; I2 (P2) mobile → income mobile/ios +1h → property at the branch +1d, completed; I3 (P3) web →
income web, open; I4 (P10, no funnel event) web → income, property web/desktop, completed; I5 (P9, the planted
patchwork journey, 2026-11-03) web 09:00 → income mobile/ios 11:05 → property branch 16:00, completed 16:30.

Identifications: P1 identify web at T; P2 identify mobile T+10m and T+20m; P9 identify web 09:00, mobile 11:00,
phone (call-centre) 14:00, and a branch visit at 16:00 that linked a new identifier.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from seamline.cases.models import Case
from seamline.communications.service import ExternalCommunication, log_external
from seamline.core.db import unit_of_work
from seamline.identity.models import IdentifierLink, Profile
from seamline.ingestion.models import InboxEvent
from seamline.journeys.models import JourneyEntry, JourneyInstance
from seamline.profiles.models import ProfileEvent
from tests.support.builders import make_source

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
D = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # the patchwork day
H, DAY = timedelta(hours=1), timedelta(days=1)
FUNNEL = ("Application Started", "Documents Uploaded", "Application Submitted", "Offer Accepted")


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.people: dict[str, int] = {}
        self.sources = {
            name: make_source(engine, name, kind)[0].id
            for name, kind in (("web-site", "web"), ("mobile-app", "mobile"), ("call-centre", "call-center"),
                               ("branch", "branch"))
        }  # fmt: skip
        self._next_event = 0
        self._events: list[dict[str, Any]] = []
        self._links: list[tuple[str, int]] = []

    def person(self, name: str) -> int:
        return self.people[name]

    def event(
        self, who: str, name: str | None, at: datetime, *, source: str = "web-site", channel: str | None = "web",
        device: str | None = None, props: dict[str, Any] | None = None, type: str = "track",
    ) -> int:  # fmt: skip
        self._next_event += 1
        context: dict[str, Any] = {"channel": channel} if channel else {}
        if device:
            context["device"] = {"type": device}
        payload = {"type": type, "event": name, "properties": props or {}, "context": context}
        self._events.append(
            {"id": self._next_event, "who": who, "name": name, "type": type, "at": at, "channel": channel,
             "source": source, "payload": payload}
        )  # fmt: skip
        return self._next_event


def build(engine: Engine) -> World:
    """Store the world; returns it (with each person's profile id)."""
    w = World(engine)
    names = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9", "P10"]
    with unit_of_work(engine) as session:
        rows = [Profile(created_at=T - 30 * DAY, updated_at=T - 30 * DAY) for _ in names]
        session.add_all(rows)
        session.flush()
        w.people = {n: int(r.id) for n, r in zip(names, rows, strict=True)}

    web = {"source": "web-site", "channel": "web"}
    ios = {"source": "mobile-app", "channel": "mobile", "device": "ios"}
    android = {"source": "mobile-app", "channel": "mobile", "device": "android"}
    mortgage, card = {"product": "mortgage"}, {"product": "card"}
    w.event("P1", "Application Started", T, props=mortgage, **web)
    w.event("P1", "Documents Uploaded", T + H, **web)
    w.event("P1", "Application Submitted", T + 2 * H, **web)
    w.event("P1", "Offer Accepted", T + DAY, **web)
    w.event("P2", "Application Started", T, props=mortgage, **ios)
    w.event("P2", "Documents Uploaded", T + H / 2, **ios)
    w.event("P2", "Application Submitted", T + 1.5 * H, **ios)
    w.event("P3", "Application Started", T, props=mortgage, **web)
    w.event("P3", "Documents Uploaded", T + 3 * H, **web)
    w.event("P4", "Application Started", T, props=card, **web)
    w.event("P5", "Application Started", T, props=card, **android)
    w.event("P5", "Documents Uploaded", T + 9 * DAY, **android)
    w.event("P6", "Application Started", T, props=card, **web)
    w.event("P6", "Application Submitted", T + H, **web)
    w.event("P7", "Application Started", datetime(2026, 10, 20, 9, 0, tzinfo=UTC), **web)
    w.event("P7", "Documents Uploaded", datetime(2026, 10, 20, 10, 0, tzinfo=UTC), **web)
    w.event("P8", "Application Started", T, props=card, **web)
    # Bookkeeping events a path view leaves out (the journey's own steps and the log stand for them).
    w.event("P4", "Journey Step Completed", T + 3 * H, **web)
    # Identifications.
    w.event("P1", None, T, type="identify", **web)
    w.event("P2", None, T + H / 6, type="identify", **ios)
    w.event("P2", None, T + H / 3, type="identify", **ios)
    w.event("P9", None, D, type="identify", **web)
    w.event("P9", None, D + 2 * H, type="identify", **ios)
    w.event("P9", None, D + 5 * H, type="identify", source="call-centre", channel="phone")
    visit = w.event("P9", "Branch Visit", D + 7 * H, source="branch", channel="branch")
    w._links.append(("P9", visit))

    with unit_of_work(engine) as session:
        for e in w._events:
            session.add(
                InboxEvent(
                    id=e["id"], source_id=w.sources[e["source"]], message_id=f"m{e['id']}", type=e["type"],
                    user_id=e["who"], anonymous_id=None, partition=0, received_at=e["at"],
                    payload=json.dumps(e["payload"]), processed_at=e["at"],
                )
            )  # fmt: skip
        session.flush()
        for e in w._events:
            session.add(
                ProfileEvent(
                    event_id=e["id"], profile_id=w.person(e["who"]), source_id=w.sources[e["source"]],
                    type=e["type"], name=e["name"], channel=e["channel"], occurred_at=e["at"],
                )
            )  # fmt: skip
        for who, event_id in w._links:
            session.add(
                IdentifierLink(
                    profile_id=w.person(who), type="card_number", value="4000-0000", source_id=w.sources["branch"],
                    first_event_id=event_id, first_seen_at=D + 7 * H, last_seen_at=D + 7 * H,
                )
            )  # fmt: skip
        log_external(
            session,
            [
                ExternalCommunication(f"r-{who}", w.person(who), "service", "email", "mailer",
                                      template="doc_reminder", occurred_at=T + DAY)
                for who in ("P3", "P4", "P8")
            ],
        )  # fmt: skip
        for who, at in (("P3", T + DAY + 2 * H), ("P4", T + 2 * DAY), ("P8", T + DAY + H)):
            session.add(
                Case(
                    profile_id=w.person(who), origin_profile_id=w.person(who), subject="documents", priority="normal",
                    status="open", queue="general", channel="phone", opened_by="agent", opened_at=at, updated_at=at,
                )
            )  # fmt: skip
        journeys = [
            ("I1", "P1", "web", T, T + 2 * H,
             [("income", "web", "desktop", T + H), ("property", "mobile", "ios", T + 2 * H)]),
            ("I2", "P2", "mobile", T, T + DAY,
             [("income", "mobile", "ios", T + H), ("property", "branch", None, T + DAY)]),
            ("I3", "P3", "web", T, None, [("income", "web", None, T + H)]),
            ("I4", "P10", "web", T, T + 3 * H,
             [("income", "web", "desktop", T + H), ("property", "web", "desktop", T + 3 * H)]),
            ("I5", "P9", "web", D, D + 7.5 * H,
             [("income", "mobile", "ios", D + 2 * H + H / 12), ("property", "branch", None, D + 7 * H)]),
        ]  # fmt: skip
        for public_id, who, channel, started, completed, steps in journeys:
            last = steps[-1][3]
            instance = JourneyInstance(
                public_id=public_id, journey="apply_for_mortgage", profile_id=w.person(who),
                origin_profile_id=w.person(who), status="completed" if completed else "open",
                current_step=None if completed else "property", step_since=last, started_at=started,
                started_channel=channel, last_activity_at=completed or last, completed_at=completed, event_id=0,
            )  # fmt: skip
            session.add(instance)
            session.flush()
            for step, ch, device, at in steps:
                session.add(
                    JourneyEntry(
                        instance_id=instance.id, journey="apply_for_mortgage", step=step, kind="step", channel=ch,
                        device=device, actor_kind="customer", event_id=0, at=at,
                    )
                )  # fmt: skip
    return w
