"""The profile card's one read of the profiles domain: every trait's candidate values and the fact counts.

The card needs each trait's winning value and how many holdings and events the profile has. Most traits have one
candidate, whose value is the winner whatever the rule, so the card reads the values and the counts in one prepared
statement (a lookup ran two here: the candidates whole, then the counts) and reads the candidates whole only for a
profile where a trait has several (`service.card_facts`).
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Integer, String, text

from seamline.core.prepared import Prepared, Reads


class CardRow(NamedTuple):
    """The counts (the same on every row) and one candidate value of a trait (None: the profile has no trait)."""

    holdings: int
    events: int
    name: str | None
    value_json: str | None


# The counts as a one-row table, the traits joined to it: a profile without traits still has its row of counts.
# Ordered as `repository.traits` orders the candidates, so the card lists its traits in the same order.
_CARD = Prepared(
    text(
        "SELECT c.holdings, c.events, t.name, t.value_json FROM "
        "(SELECT (SELECT count(*) FROM holdings WHERE profile_id = :id) AS holdings, "
        "(SELECT count(*) FROM profile_events WHERE profile_id = :id) AS events) AS c "
        "LEFT JOIN profile_traits AS t ON t.profile_id = :id ORDER BY t.name, t.id"
    ).columns(holdings=Integer(), events=Integer(), name=String(), value_json=String()),
    CardRow,
)


def card_rows(reads: Reads, profile_id: int) -> list[CardRow]:
    """The fact counts and every candidate value of every trait of a profile (at least one row)."""
    return _CARD.all(reads, id=profile_id)
