"""Erasure of a person's purchases and action outcomes: no catalog, no arbitration, no numpy, so erasure and the
privacy commands do not load them (as matching/erasure.py keeps the matcher out)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from seamline.decisions import repository


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: delete these profiles' purchases and action outcomes (the model's tallies hold no person)."""
    return repository.erase(session, profile_ids) if profile_ids else 0
