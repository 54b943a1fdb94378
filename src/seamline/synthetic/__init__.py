"""Synthetic customers with ground truth, for identity-resolution tests and benchmarks and for record matching.

Three steps, all pure and reproducible by seed (standard library only; no database, no network):

1. `generate_people(n, seed)` draws people in households, with names, nicknames, birth dates, emails, phones,
   addresses, user ids, devices and product holdings. Households share an address and sometimes a landline, a
   family tablet or a joint account: values that appear on two people without making them one person.
2. `generate_events(people, n_events, seed, start)` turns them into Segment messages from many sources (web and app
   sessions, logins, call-center calls, CRM syncs, systems of record), each labelled with the person who really
   caused it. The label (`person_key`) travels beside the message and never inside it.
3. `pairwise_scores(predicted, truth)` scores a resolver's clustering of items against that truth.
"""

from __future__ import annotations

from seamline.synthetic.events import PLACEHOLDERS, SyntheticEvent, generate_events
from seamline.synthetic.people import Address, Device, Holding, Person, generate_people
from seamline.synthetic.truth import Scores, pairwise_scores, truth_by_message_id

__all__ = [
    "PLACEHOLDERS",
    "Address",
    "Device",
    "Holding",
    "Person",
    "Scores",
    "SyntheticEvent",
    "generate_events",
    "generate_people",
    "pairwise_scores",
    "truth_by_message_id",
]
