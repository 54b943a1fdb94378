"""The overview's tiles of what customers said and went through: survey scores (CSAT, NPS, CES, from the feedback
domain) and repeated identification (from journey analytics' columnar copy)."""

from __future__ import annotations

from datetime import timedelta

from seamline.feedback.rollups import overall, score_trend
from seamline.reports.filters import PERIOD, SEGMENT, Filters
from seamline.reports.reading import Reading
from seamline.reports.tiles import BARS, LINES, Chart, Table, Tile, percent

LABELS = {"csat": "CSAT %", "nps": "NPS", "ces": "CES"}


def feedback(reading: Reading, filters: Filters) -> Tile:
    """CSAT (% satisfied), NPS and CES (mean effort) per week of the period, and over the whole of it (a customer
    segment's answers when one is chosen)."""
    since, until = reading.window(filters)
    people = reading.members(filters)
    points = score_trend(reading.session, since=since, until=until, bucket="week", people=people)
    weeks = tuple(sorted({p.start.isoformat() for p in points}))
    at = {(p.start.isoformat(), p.kind): p.score for p in points}
    kinds = [k for k in LABELS if any(p.kind == k for p in points)]
    whole = overall(reading.session, since=since, until=until, people=people)
    return Tile(
        "feedback",
        "CSAT, NPS and CES",
        figures=tuple(
            (LABELS.get(f.kind, f.kind), "—" if f.score is None else f"{f.score:g} ({f.answers:,} answers)")
            for f in whole
        ),
        chart=Chart(LINES, "Scores by week", weeks, {LABELS[k]: [at.get((w, k)) for w in weeks] for k in kinds}),
        tables=(
            Table(
                "trend",
                "Scores by week",
                ("week", "survey", "score", "answers"),
                tuple(
                    {"week": p.start.isoformat(), "survey": p.kind, "score": p.score, "answers": p.answers}
                    for p in points
                ),
            ),
        ),
        supports=frozenset({PERIOD, SEGMENT}),
    )


def repeated_identification(reading: Reading, filters: Filters) -> Tile:
    """How often a customer had to identify again within a day or one journey, across channels."""
    from seamline.analytics.service import Period

    since, until = reading.window(filters)
    found = reading.analytics.repeated_identification(Period(since.date(), (until - timedelta(days=1)).date()))
    days = found.days
    return Tile(
        "repeated_identification",
        "Repeated identification",
        note="Identifying again within a day or a journey is the patchwork customers feel; the Funnels page has more.",
        figures=(
            ("person-days identified again", percent(days.repeated_share)),
            ("again through another channel", f"{days.across_channels:,} of {days.person_days:,}"),
            ("most in one day", str(days.most_in_a_day)),
        ),
        chart=Chart(
            BARS,
            "Where people identified again",
            tuple(c for c, _ in days.again_by_channel),
            {"identified again": [float(n) for _, n in days.again_by_channel]},
        ),
        tables=(
            Table(
                "by_journey",
                "Within one journey",
                ("journey", "instances", "repeated", "across_channels", "repeated_share", "mean_identifications"),
                tuple(
                    {
                        "journey": j.journey,
                        "instances": j.instances,
                        "repeated": j.repeated,
                        "across_channels": j.across_channels,
                        "repeated_share": j.repeated_share,
                        "mean_identifications": j.mean_identifications,
                    }
                    for j in found.journeys
                ),
            ),
            Table(
                "per_day",
                "Identifications per person and day",
                ("identifications", "person_days"),
                tuple({"identifications": k, "person_days": n} for k, n in days.histogram),
            ),
        ),
        supports=frozenset({PERIOD}),
    )
