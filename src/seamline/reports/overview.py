"""The CX overview's own tiles, each from another domain's public service: volumes and channel effectiveness from
the communications assessment's columnar copy, journey completion from the journeys board, errors against their
clocks from the errors' clock report, consent and paperless coverage from the consent ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from seamline.consent.policy import CONSENT, DELIVERY, DENIED, ELECTRONIC, GRANTED, PAPER
from seamline.consent.service import coverage
from seamline.errors.reports import clock_report
from seamline.identity.service import customer_count
from seamline.journeys.board import board
from seamline.journeys.progress import ABANDONED, COMPLETED, OPEN, STALLED
from seamline.reports.filters import CHANNEL, PERIOD, PRODUCT, SEGMENT, SPLIT, Filters
from seamline.reports.reading import Reading
from seamline.reports.tiles import BARS, LINES, Chart, Table, Tile, percent, share

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _day(number: int) -> str:
    return (EPOCH + timedelta(days=int(number))).date().isoformat()


def volumes(reading: Reading, filters: Filters) -> Tile:
    """Messages by channel per day (by product when split), from the communications log; only the messages to a
    customer segment's members when one is chosen."""
    rows = reading.channel_days(filters)
    by_channel: dict[str, dict[str, int]] = defaultdict(lambda: {"messages": 0, "sent": 0, "held": 0})
    by_day: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        mine = by_channel[str(r["channel"])]
        mine["messages"] += int(r["volume"])
        mine["sent"] += int(r["sent"])
        mine["held"] += int(r["held"])
        by_day[(_day(r["day"]), str(r["segment"]) if filters.split else str(r["channel"]))] += int(r["volume"])
    days = sorted({d for d, _ in by_day})
    names = sorted({n for _, n in by_day})
    total = sum(v["messages"] for v in by_channel.values())
    split = "product" if filters.split else "channel"
    return Tile(
        "volumes",
        "Volumes by channel",
        figures=(("messages", f"{total:,}"), ("channels", str(len(by_channel)))),
        chart=Chart(
            LINES, f"Messages a day by {split}", tuple(days), {n: [by_day.get((d, n), 0) for d in days] for n in names}
        ),
        tables=(
            Table(
                "by_channel",
                "Messages by channel",
                ("channel", "messages", "sent", "held"),
                tuple({"channel": c, **v} for c, v in sorted(by_channel.items(), key=lambda i: -i[1]["messages"])),
            ),
            Table(
                "by_day",
                f"Messages a day by {split}",
                ("day", split, "messages"),
                tuple(
                    {"day": d, split: n, "messages": by_day[(d, n)]} for d in days for n in names if (d, n) in by_day
                ),
            ),
        ),
        supports=frozenset({PERIOD, PRODUCT, CHANNEL, SEGMENT, SPLIT}),
    )


def effectiveness(reading: Reading, filters: Filters) -> Tile:
    """Delivery, opens, clicks and failures by channel (by product when split); conversion and contacts after
    are on the assessment's effectiveness page, which joins messages to later events and cases."""
    groups: dict[tuple[str, str | None], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in reading.channel_days(filters):
        mine = groups[(str(r["channel"]), r["segment"])]
        for k in ("sent", "held", "delivered", "opened", "clicked", "failed"):
            mine[k] += int(r[k])
    table_rows: list[dict[str, Any]] = []
    for (channel, segment), c in sorted(groups.items(), key=lambda i: -i[1]["sent"]):
        engaged = channel in ("email", "in_app", "push")
        table_rows.append(
            {
                "channel": channel,
                "product": segment,
                "sent": c["sent"],
                "held": c["held"],
                "delivery_rate": share(c["delivered"], c["sent"]),
                "open_rate": share(c["opened"], c["sent"]) if engaged else None,
                "click_rate": share(c["clicked"], c["sent"]) if engaged else None,
                "failure_rate": share(c["failed"], c["sent"]),
            }
        )
    columns = ("channel", "product") if filters.split else ("channel",)
    labels = tuple(" · ".join(str(r[c]) for c in columns) for r in table_rows)
    sent = sum(r["sent"] for r in table_rows)
    delivered = sum(c["delivered"] for c in groups.values())
    return Tile(
        "effectiveness",
        "Channel effectiveness",
        note="Conversion and contacts after: the communications assessment's effectiveness report.",
        figures=(("sent", f"{sent:,}"), ("delivered", percent(share(delivered, sent)))),
        chart=Chart(
            BARS,
            "Delivered, opened and failed by channel",
            labels,
            {
                "delivered": [r["delivery_rate"] for r in table_rows],
                "opened": [r["open_rate"] for r in table_rows],
                "failed": [r["failure_rate"] for r in table_rows],
            },
            percent=True,
        ),
        tables=(
            Table(
                "by_channel",
                "Effectiveness by channel",
                (*columns, "sent", "held", "delivery_rate", "open_rate", "click_rate", "failure_rate"),
                tuple(table_rows),
            ),
        ),
        supports=frozenset({PERIOD, PRODUCT, CHANNEL, SEGMENT, SPLIT}),
    )


def journeys(reading: Reading, filters: Filters) -> Tile:
    """Journey completion now: instances of each journey by status, and the share completed of those ended or
    running (the board counts current state, so the period does not apply)."""
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for row in board(reading.session):
        mine = totals.setdefault((row.journey, row.name), defaultdict(int))
        for status, count in row.counts.items():
            mine[status] += count
    rows: list[dict[str, Any]] = []
    for (key, name), c in totals.items():
        started = c[OPEN] + c[STALLED] + c[ABANDONED] + c[COMPLETED]
        rows.append(
            {
                "journey": key,
                "name": name,
                "started": started,
                "open": c[OPEN],
                "stalled": c[STALLED],
                "abandoned": c[ABANDONED],
                "completed": c[COMPLETED],
                "completion_rate": share(c[COMPLETED], started),
            }
        )
    started, done = sum(r["started"] for r in rows), sum(r["completed"] for r in rows)
    return Tile(
        "journeys",
        "Journey completion",
        note="Every journey as it stands now.",
        figures=(("started", f"{started:,}"), ("completed", percent(share(done, started)))),
        chart=Chart(
            BARS,
            "Completed, abandoned and stalled by journey",
            tuple(r["name"] for r in rows),
            {k: [share(r[k], r["started"]) for r in rows] for k in ("completed", "abandoned", "stalled")},
            percent=True,
        ),
        tables=(
            Table(
                "by_journey",
                "Journeys by status",
                ("journey", "name", "started", "open", "stalled", "abandoned", "completed", "completion_rate"),
                tuple(rows),
            ),
        ),
    )


def errors(reading: Reading, filters: Filters) -> Tile:
    """Communication errors by severity, acknowledged and resolved within their policy clocks."""
    since, _until = reading.window(filters)
    rows: list[dict[str, Any]] = [
        {
            "severity": r.severity,
            "errors": r.errors,
            "acknowledged": r.acknowledged,
            "acknowledged_in_time": r.acknowledged_in_time,
            "median_acknowledge_minutes": r.median_acknowledge_minutes,
            "resolved": r.resolved,
            "resolved_in_time": r.resolved_in_time,
            "median_resolve_minutes": r.median_resolve_minutes,
            "acknowledged_in_time_rate": share(r.acknowledged_in_time, r.errors),
            "resolved_in_time_rate": share(r.resolved_in_time, r.errors),
        }
        for r in clock_report(reading.session, since)
    ]
    total = sum(r["errors"] for r in rows)
    return Tile(
        "errors",
        "Errors by severity against their clocks",
        note=f"Errors reported since {since.date().isoformat()}; in time: within the policy's clock.",
        figures=(
            ("errors", f"{total:,}"),
            ("resolved in time", percent(share(sum(r["resolved_in_time"] for r in rows), total))),
        ),
        chart=Chart(
            BARS,
            "Errors, and those handled within their clocks",
            tuple(r["severity"] for r in rows),
            {
                "errors": [r["errors"] for r in rows],
                "acknowledged in time": [r["acknowledged_in_time"] for r in rows],
                "resolved in time": [r["resolved_in_time"] for r in rows],
            },
        ),
        tables=(Table("by_severity", "Errors by severity", tuple(rows[0]) if rows else ("severity",), tuple(rows)),),
        supports=frozenset({PERIOD}),
    )


def consent(reading: Reading, filters: Filters) -> Tile:
    """Consent per purpose x channel and paperless delivery per document type, as shares of every customer."""
    customers = customer_count(reading.session)
    stated: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    delivery: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in coverage(reading.session, now=reading.now):
        if c.kind == CONSENT and c.purpose and (filters.channel is None or c.channel == filters.channel):
            stated[(c.purpose, c.channel or "*")][c.value] += c.profiles
        elif c.kind == DELIVERY and c.document_type:
            delivery[c.document_type][c.value] += c.profiles
    consent_rows: list[dict[str, Any]] = [
        {
            "purpose": p,
            "channel": ch,
            "granted": v[GRANTED],
            "denied": v[DENIED],
            "no_choice": max(customers - v[GRANTED] - v[DENIED], 0),
            "granted_share": share(v[GRANTED], customers),
        }
        for (p, ch), v in sorted(stated.items())
    ]
    paper_rows: list[dict[str, Any]] = [
        {
            "document_type": d,
            "electronic": v[ELECTRONIC],
            "paper": v[PAPER],
            "no_choice": max(customers - v[ELECTRONIC] - v[PAPER], 0),
            "electronic_share": share(v[ELECTRONIC], customers),
        }
        for d, v in sorted(delivery.items())
    ]
    labels = [f"{r['purpose']} · {r['channel']}" for r in consent_rows] + [
        f"paperless · {r['document_type']}" for r in paper_rows
    ]
    return Tile(
        "consent",
        "Consent and paperless coverage",
        note="Shares of every customer: the newest customer-wide choice in effect now (no choice: the default).",
        figures=(("customers", f"{customers:,}"),),
        chart=Chart(
            BARS,
            "Share of customers who granted, and who chose paperless",
            tuple(labels),
            {"share": [r["granted_share"] for r in consent_rows] + [r["electronic_share"] for r in paper_rows]},
            percent=True,
            horizontal=True,
        ),
        tables=(
            Table(
                "consent",
                "Consent by purpose and channel",
                ("purpose", "channel", "granted", "denied", "no_choice", "granted_share"),
                tuple(consent_rows),
            ),
            Table(
                "paperless",
                "Paperless delivery by document type",
                ("document_type", "electronic", "paper", "no_choice", "electronic_share"),
                tuple(paper_rows),
            ),
        ),
        supports=frozenset({CHANNEL}),
    )
