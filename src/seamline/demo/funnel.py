"""The demo bank's online mortgage application as a funnel worth looking at (console: Reports → Funnels).

Applicants start on the web or in the app, upload documents, submit and accept the offer; many stop on the way.
Some who stop get the documents reminder by email and then phone the call centre, where they have to identify
themselves again — the detour and the repeated identification the journey reports show. The same every time.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from seamline.synthetic.people import Person

SEED = 20261205
APPLICANTS = 240
STEPS = ("Mortgage Application Started", "Mortgage Documents Uploaded", "Mortgage Application Submitted",
         "Mortgage Offer Accepted")  # fmt: skip
ONWARD = (0.62, 0.7, 0.55)  # the share of each step's applicants who go on to the next
# (source, context.channel, context.device.type) an applicant starts from.
ENTRIES = (("web", "web", None), ("ios-app", "mobile", "ios"), ("android-app", "mobile", "android"))
Message = tuple[str, dict[str, Any]]


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def funnel_traffic(people: Sequence[Person], now: datetime) -> list[Message]:
    """The last four weeks of mortgage applications: steps, reminders, calls and the identifications between."""
    rng = random.Random(SEED)
    applicants = [p for p in people if p.user_id is not None][:APPLICANTS]
    out: list[Message] = []
    for n, person in enumerate(applicants):
        user = person.user_id
        source, channel, device = ENTRIES[rng.randrange(len(ENTRIES))]
        context: dict[str, Any] = {"channel": channel, **({"device": {"type": device}} if device else {})}
        at = now - timedelta(days=28) + timedelta(minutes=rng.randrange(60 * 24 * 24))

        def send(
            src: str, message: dict[str, Any], when: datetime, ctx: dict[str, Any], user: str | None = user
        ) -> None:
            out.append((src, {**message, "userId": user, "context": ctx, "timestamp": _iso(when)}))

        send(source, {"type": "identify", "traits": {}}, at, context)
        reached = 0
        for k, step in enumerate(STEPS):
            if k and rng.random() > ONWARD[k - 1]:
                break
            at += timedelta(minutes=rng.expovariate(1 / (90 if k < 2 else 600)))
            # Some applicants switch device half-way: they sign in again on the other one.
            if k == 2 and channel == "web" and rng.random() < 0.3:
                source, context = "ios-app", {"channel": "mobile", "device": {"type": "ios"}}
                send(source, {"type": "identify", "traits": {}}, at - timedelta(minutes=1), context)
            send(source, {"type": "track", "event": step, "properties": {"product": "mortgage"}}, at, context)
            reached = k + 1
        if reached in (1, 2) and rng.random() < 0.6:
            at += timedelta(hours=rng.uniform(20, 30))
            cid = f"demo-docs-{n}"
            send("mortgage-system", {"type": "track", "event": "Communication Sent", "properties": {
                "communication_id": cid, "type": "service", "template": "mortgage_documents_needed",
                "batch": f"mortgage-docs-{at:%Y-%m-%d}", "platform": "mailer", "channel": "email",
                "source_system": "mortgage-system"}}, at, {})  # fmt: skip
            if rng.random() < 0.55:
                at += timedelta(hours=rng.uniform(1, 8))
                phone = {"channel": "phone"}
                send("call-center", {"type": "identify", "traits": {}}, at, phone)
                send("call-center", {"type": "track", "event": "Call Completed",
                                     "properties": {"reason": "mortgage documents"}}, at + timedelta(minutes=9),
                     phone)  # fmt: skip
    out.sort(key=lambda m: str(m[1]["timestamp"]))
    return out
