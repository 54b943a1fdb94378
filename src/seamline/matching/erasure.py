"""Erasure of a person's side of the stored match pairs: no model, no DataFrame, so erasure does not load them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from seamline.matching import repository

ERASED = "[erased]"


def erase_pairs(session: Session, profile_ids: Sequence[int]) -> int:
    """Erase a person's side of every stored pair: their compared values go, the other side's and the decision stay.

    A decided pair stays a label (its weights and outcome say nothing about who the person was); what identified
    them — names, birth date, address, contact details as compared — is replaced by a mark.
    """
    erased = set(profile_ids)
    touched = repository.pairs_touching(session, profile_ids)
    for pair in touched:
        sides = {s for s, pid in (("left", pair.left_profile_id), ("right", pair.right_profile_id)) if pid in erased}
        if "left" in sides:
            pair.left_values = {}
        if "right" in sides:
            pair.right_values = {}
        pair.comparison = [{**item, **{side: ERASED for side in sides}} for item in pair.comparison]
        if pair.note:
            pair.note = ERASED
    session.flush()
    return len(touched)
