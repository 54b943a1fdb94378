"""Who a batch of profile ids are: the live person (an active, unerased profile) each belongs to, and each such
person's profiles, from two prepared reads a chunk and one more per merge hop (identity/batch_reads.py)."""

from __future__ import annotations

from collections.abc import Sequence

from seamline.core.prepared import Reads
from seamline.identity import batch_reads


def people_of(reads: Reads, profile_ids: Sequence[int]) -> tuple[dict[int, int], dict[int, list[int]]]:
    """(the live person each asked profile belongs to, every live person's profiles: the root first, then what it
    absorbed by id). An asked profile that is unknown, or whose person is erased, is left out."""
    states = {pid: (into, erased) for pid, into, erased in batch_reads.person_states(reads, profile_ids)}
    roots: dict[int, int] = {}
    pending = {pid: pid for pid in set(profile_ids) if pid in states}
    for _ in range(64):  # merge pointers are kept flat; a few hops at most after replays
        following: dict[int, int] = {}
        for pid, current in pending.items():
            into = states[current][0]
            if into is None:
                roots[pid] = current
            else:
                following[pid] = into
        missing = sorted({into for into in following.values() if into not in states})
        states |= {pid: (into, erased) for pid, into, erased in batch_reads.person_states(reads, missing)}
        pending = {pid: into for pid, into in following.items() if into in states}
        if not pending:
            break
    live = {root for root in roots.values() if not states[root][1]}
    members: dict[int, list[int]] = {root: [root] for root in sorted(live)}
    for pid, root in sorted(batch_reads.absorbed_by(reads, sorted(live))):
        members[root].append(pid)
    return {pid: root for pid, root in roots.items() if root in live}, members
