"""Queries of the matching domain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from seamline.matching.models import MatchPair


def add_pair(session: Session, **values: Any) -> MatchPair:
    pair = MatchPair(**values)
    session.add(pair)
    session.flush()
    return pair


def get_pair(session: Session, pair_id: int, *, lock: bool = False) -> MatchPair | None:
    query = select(MatchPair).where(MatchPair.id == pair_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query).first()


def pairs(session: Session, statuses: Sequence[str], *, limit: int | None = None, after_id: int = 0) -> list[MatchPair]:
    query = select(MatchPair).where(MatchPair.status.in_(list(statuses)), MatchPair.id > after_id)
    query = query.order_by(MatchPair.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def pairs_by_probability(session: Session, status: str, *, limit: int, after_id: int = 0) -> list[MatchPair]:
    """Pairs in a status, likeliest first (ties: lowest id), keyset-paginated after the pair `after_id`."""
    query = select(MatchPair).where(MatchPair.status == status)
    if after_id:
        last = session.scalar(select(MatchPair.probability).where(MatchPair.id == after_id))
        if last is not None:
            query = query.where(
                or_(MatchPair.probability < last, and_(MatchPair.probability == last, MatchPair.id > after_id))
            )
    query = query.order_by(MatchPair.probability.desc(), MatchPair.id).limit(limit)
    return list(session.scalars(query))


def profile_pairs(session: Session, statuses: Sequence[str]) -> list[tuple[int, int, int]]:
    """(id, left profile, right profile) of the pairs in these statuses."""
    rows = session.execute(
        select(MatchPair.id, MatchPair.left_profile_id, MatchPair.right_profile_id).where(
            MatchPair.status.in_(list(statuses))
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


def pairs_touching(session: Session, profile_ids: Sequence[int]) -> list[MatchPair]:
    """Every stored pair with one of these profiles on either side."""
    ids = list(profile_ids)
    query = select(MatchPair).where(or_(MatchPair.left_profile_id.in_(ids), MatchPair.right_profile_id.in_(ids)))
    return list(session.scalars(query.order_by(MatchPair.id)))


def pairs_by_id(session: Session, pair_ids: Sequence[int]) -> dict[int, MatchPair]:
    ids = sorted(set(pair_ids))
    out: dict[int, MatchPair] = {}
    for start in range(0, len(ids), 900):
        out.update(
            (p.id, p) for p in session.scalars(select(MatchPair).where(MatchPair.id.in_(ids[start : start + 900])))
        )
    return out


def pairs_with_differing_ids(session: Session, *, after_id: int, limit: int) -> list[MatchPair]:
    """Pairs whose two records, as compared, hold national ids that differ (each a data-quality finding), by id
    after `after_id`. An erased side holds no values, so its pairs are not among them."""
    left, right = MatchPair.left_values["national_id"].as_string(), MatchPair.right_values["national_id"].as_string()
    query = select(MatchPair).where(MatchPair.id > after_id, left.is_not(None), right.is_not(None), left != right)
    return list(session.scalars(query.order_by(MatchPair.id).limit(limit)))
