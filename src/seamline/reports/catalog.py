"""Every report of the reports area, in one catalog: its key, title, page, the permission that shows it, and, for a
dashboard, its tiles. The reports index, saved reports, schedules and exports all read this one list.

Adding a report or a tile is one line here: a page of its own is a `ReportEntry`; a dashboard's tile is a
`TileSlot` whose provider is `(Reading, Filters) -> Tile`. A slot without a provider shows "not available" (the
part is not installed), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from seamline.reports import customers, overview
from seamline.reports.reading import TileProvider
from seamline.users.permissions import ASSESS_COMMUNICATIONS, VIEW_REPORTS


@dataclass(frozen=True, slots=True)
class TileSlot:
    """A place on a dashboard; `permission` narrows who sees it below the report's own permission."""

    key: str
    title: str
    provider: TileProvider | None
    missing: str = "the part that computes it is not installed"
    permission: str | None = None


@dataclass(frozen=True, slots=True)
class ReportEntry:
    key: str
    title: str
    path: str
    permission: str
    description: str
    tiles: tuple[TileSlot, ...] = ()  # a dashboard's tiles; a report with tiles can be scheduled by email
    # A page's own query parameters a saved report keeps beside the common filters (a funnel's steps); the page
    # checks them when the saved report is opened, as it checks any query.
    params: tuple[str, ...] = ()

    @property
    def is_dashboard(self) -> bool:
        return bool(self.tiles)


OVERVIEW_TILES = (
    TileSlot("volumes", "Volumes by channel", overview.volumes),
    TileSlot("journeys", "Journey completion", overview.journeys),
    TileSlot("errors", "Errors by severity against their clocks", overview.errors),
    # Rates of what the company sends are the communications owners' and analysts' (the assessment's permission).
    TileSlot("effectiveness", "Channel effectiveness", overview.effectiveness, permission=ASSESS_COMMUNICATIONS),
    TileSlot("consent", "Consent and paperless coverage", overview.consent),
    TileSlot("repeated_identification", "Repeated identification", customers.repeated_identification),
    TileSlot("feedback", "CSAT, NPS and CES", customers.feedback),
)

REPORTS: tuple[ReportEntry, ...] = (
    ReportEntry(
        "overview",
        "CX overview",
        "/console/reports/overview",
        VIEW_REPORTS,
        "Volumes by channel, journey completion, errors against their clocks, channel effectiveness, consent and "
        "paperless coverage, repeated identification and survey scores, on one page.",
        OVERVIEW_TILES,
    ),
    ReportEntry(
        "assessment",
        "Communications assessment",
        "/console/communications",
        ASSESS_COMMUNICATIONS,
        "Every communication, the flow map, effectiveness, bottlenecks and redundant collection.",
    ),
    ReportEntry(
        "funnels",
        "Funnels",
        "/console/reports/funnels",
        VIEW_REPORTS,
        "Conversion and drop-off between any steps (events or journey steps) by channel, device and source; "
        "journeys finished on another channel; how often customers had to identify again.",
        params=("steps", "window_hours", "breakdown"),
    ),
    ReportEntry(
        "paths",
        "Paths after a drop-off",
        "/console/reports/paths",
        VIEW_REPORTS,
        "What people did after leaving a step: the reminder, the call to the call centre, the branch visit.",
        params=("steps", "window_hours", "step", "depth"),
    ),
    ReportEntry(
        "feedback",
        "Feedback",
        "/console/reports/feedback",
        VIEW_REPORTS,
        "CSAT, NPS and CES by touchpoint, agent, journey step and communication type, with the errors and cases "
        "of the same people.",
        params=("days",),
    ),
    ReportEntry(
        "errors",
        "Communication errors",
        "/console/error-reports",
        VIEW_REPORTS,
        "Errors by harm, template, source system and channel, weekly by severity, against the policy's clocks.",
        params=("days",),
    ),
)


def entry(key: str) -> ReportEntry | None:
    return next((r for r in REPORTS if r.key == key), None)
