"""The demo bank's saved reports: a shared CX overview that Cora (communications) has sent to the CX team every
Monday at 07:00 UTC, the same overview of the premier customers only (a customer segment of segments.py), her
private view of email, and the online mortgage funnel by channel, shared. Console: Reports."""

from __future__ import annotations

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.demo.funnel import STEPS
from seamline.reports.filters import Filters
from seamline.reports.service import save_report, schedule_report
from seamline.users.service import UserView

CX_TEAM = "cx-team@bank.example"
PREMIER = "premier"  # a segment of the demo's segments file (seamline.demo.segments)


def save_demo_reports(session: Session, owner: UserView) -> int:
    """Save the demo's reports for `owner` and schedule the shared one; returns how many were saved."""
    now = utcnow()
    shared = save_report(session, owner, "Monthly CX overview", "overview", Filters(), shared=True, now=now)
    schedule_report(session, owner, shared.id, [CX_TEAM], "weekly", 7, 0, now=now, max_recipients=20)
    save_report(session, owner, "CX overview, premier customers", "overview", Filters(segment=PREMIER), shared=True,
                now=now)  # fmt: skip
    save_report(
        session,
        owner,
        "Email, by product",
        "overview",
        Filters(channel="email", split="product"),
        shared=False,
        now=now,
    )
    save_report(
        session, owner, "Online mortgage funnel, by channel", "funnels", Filters(), shared=True, now=now,
        params={"steps": "\n".join(STEPS), "window_hours": "720", "breakdown": "channel"},
    )  # fmt: skip
    return 4
