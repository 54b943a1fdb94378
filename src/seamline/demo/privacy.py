"""The demo's data-subject requests: two customers wrote to the bank's privacy desk, one asking for a copy of their
data, one to be forgotten. The requests wait, open, for the privacy officer: `seamline privacy list` (or
`GET /v1/privacy/requests`) shows them, `seamline privacy complete ID` answers them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from seamline.audit.service import record
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.core.principal import Principal
from seamline.identity.service import IdentityContext, find_profile
from seamline.privacy.service import open_request
from seamline.synthetic.people import Person

DESK = Principal(
    name="cli:privacy-desk", kind="operator", scopes=frozenset(), surface="cli"
)  # as `seamline privacy request`


def open_privacy_requests(engine: Engine, identity: IdentityContext, people: Sequence[Person]) -> int:
    """Open an access and an erasure request for two customers the bank knows by email; returns how many."""
    opened = 0
    kinds = iter(("access", "erasure"))
    kind = next(kinds)
    for person in reversed(people):  # the conversations take the first customers: these are others
        if not person.emails:
            continue
        with unit_of_work(engine) as session:
            try:
                profile_id = find_profile(session, f"email:{person.emails[0]}", identity).profile_id
            except (NotFound, ValueError):
                continue
            view = open_request(session, kind, profile_id, requested_by=DESK.name)
            record(session, DESK, "change", "profile", view.profile_id, {"privacy_request": view.id, "kind": kind})
        opened += 1
        if (following := next(kinds, None)) is None:
            break
        kind = following
    return opened
