"""Whether a channel can reach a person at all: an address on file that no hard bounce or complaint has closed.

This is the reachability the consent policy is given (`may_contact`), for the API's question and for every send.
Prepared statements, so it runs in a read snapshot as well as in a unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from seamline.communications.models import UnreachableContact
from seamline.consent.policy import Reachability
from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads
from seamline.identity.service import identifier_links, identifier_values

# Which identifier makes a channel reachable at all.
REACHED_BY = {
    "email": "email",
    "sms": "phone",
    "phone": "phone",
    "push": "device_id",
    "in_app": "user_id",  # the inbox is read by a signed-in customer: their login is its address
    "web": "anonymous_id",
}
_U = table_of(UnreachableContact).c


class _Closed(NamedTuple):
    reason: str


_CLOSED = Prepared(
    text("SELECT reason FROM unreachable_contacts WHERE channel = :channel AND address = :address").columns(_U.reason),
    _Closed,
)


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """Where a channel reaches a person (the newest address of its kind), and whether it may be used."""

    channel: str
    address: str | None
    reach: Reachability


def contact_points(reads: Reads, profile_id: int, channels: Sequence[str]) -> dict[str, ContactPoint]:
    """For each channel: the address to use and whether it reaches the person."""
    newest: dict[str, tuple[datetime, str]] = {}
    for link in identifier_links(reads, profile_id):
        held = newest.get(link.type)
        if held is None or link.last_seen_at >= held[0]:
            newest[link.type] = (link.last_seen_at, link.value)
    out: dict[str, ContactPoint] = {}
    for channel in channels:
        needed = REACHED_BY.get(channel)
        if needed is None:
            out[channel] = ContactPoint(
                channel, None, Reachability(True, f"{channel}: no address check for this channel")
            )
            continue
        if needed not in newest:
            out[channel] = ContactPoint(channel, None, Reachability(False, f"{channel}: no {needed} on file"))
            continue
        address = newest[needed][1]
        closed = _CLOSED.first(reads, channel=channel, address=address)
        if closed is not None:
            reach = Reachability(False, f"{channel}: the {needed} on file is unreachable ({closed.reason})")
        else:
            reach = Reachability(True, f"{channel}: {needed} on file")
        out[channel] = ContactPoint(channel, address, reach)
    return out


def reachability(reads: Reads, profile_id: int, channels: Sequence[str]) -> dict[str, Reachability]:
    """Whether each channel can reach the person at all (what `may_contact` is given)."""
    return {channel: point.reach for channel, point in contact_points(reads, profile_id, channels).items()}


def contact_points_of(session: Session, profile_ids: Sequence[int], channel: str) -> dict[int, ContactPoint]:
    """`contact_points` for one channel of many profiles, in two queries (a dispatcher's batch at send time)."""
    needed = REACHED_BY.get(channel)
    if needed is None:
        free = Reachability(True, f"{channel}: no address check for this channel")
        return {p: ContactPoint(channel, None, free) for p in profile_ids}
    newest = identifier_values(session, [needed], profile_ids)
    addresses = {p: values[needed] for p, values in newest.items() if needed in values}
    closed: dict[str, str] = {}
    unique = sorted(set(addresses.values()))
    for start in range(0, len(unique), 900):  # under SQLite's bound-parameter limit
        query = select(_U.address, _U.reason).where(_U.channel == channel, _U.address.in_(unique[start : start + 900]))
        closed.update((str(a), str(r)) for a, r in session.execute(query))
    out: dict[int, ContactPoint] = {}
    for profile_id in profile_ids:
        address = addresses.get(profile_id)
        if address is None:
            reach = Reachability(False, f"{channel}: no {needed} on file")
        elif address in closed:
            reach = Reachability(False, f"{channel}: the {needed} on file is unreachable ({closed[address]})")
        else:
            reach = Reachability(True, f"{channel}: {needed} on file")
        out[profile_id] = ContactPoint(channel, address, reach)
    return out
