"""The eight message counts every report adds up, written once: each a name and its condition on a row of `facts`.

The per-day counts (rollup.py) count them per group, effectiveness by customer segment counts them over the
messages (queries.py), a period that is not whole days reads every message as rows of 1s and 0s in the shape
of the per-day counts, and the reports then add them up: four spellings of the same eight conditions, all made
here so a ninth count or a changed condition is one edit.
"""

from __future__ import annotations

# (name, condition on a row of facts): held at send time, sent, delivered (not bounced), opened, clicked,
# complained, unsubscribed, failed (failed or bounced).
MESSAGE_FLAGS = (
    ("held", "is_suppressed"),
    ("sent", "NOT is_suppressed"),
    ("delivered", "is_delivered"),
    ("opened", "is_opened"),
    ("clicked", "is_clicked"),
    ("complained", "is_complained"),
    ("unsubscribed", "is_unsubscribed"),
    ("failed", "is_failed OR is_bounced"),
)
NAMES = tuple(name for name, _ in MESSAGE_FLAGS)

# Counted over messages (rows of facts), per group.
COUNTED = ",\n       ".join(f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in MESSAGE_FLAGS)
# One message as a row of the per-day counts: each flag as 1 or 0.
ONES = ", ".join(f"({condition})::INT AS {name}" for name, condition in MESSAGE_FLAGS)
# The per-day counts (or ONES) added up, per group.
SUMMED = ", ".join(f"sum({name}) AS {name}" for name in NAMES)
