"""A worker's memory of the identity graph between batches, so a batch reads only what it has not seen.

A batch loads the holders of its identifiers and the shapes of their profiles (graph.WorkingGraph.load): on the
ingest benchmark's traffic a quarter of the worker's CPU, spent re-reading the same people batch after batch. The
cache keeps, after each batch the worker committed, what that batch ended with: the holder of each identifier it
saw (none or one; an identifier held by several profiles is read again, its order being the database's), the shape
of each profile it touched (identifiers by type, merges absorbed) and the merge blocks it read.

When it may be trusted (SQLite only: there writers take turns, so the change feed's mark says exactly who wrote):
- Every transaction that changes the graph appends to the change feed (identity.feed): the worker's own batches,
  corrections, imports, replays, unmerges, rebuilds, erasures. A batch begins by reading the feed's mark in the
  transaction that loads its graph; when it is not the mark the worker's last committed batch left, someone else
  changed the graph and the whole cache is emptied. The worker loads and resolves in a read transaction, before the
  write lock, and writes only if the mark is still the same once it holds the lock (identity.batch.is_plan_current);
  otherwise it runs the batch again under the lock, and that begin empties the cache.
- What a batch learnt is staged, and taken in only when the worker says its transaction committed (`confirm`);
  a batch that began and was never confirmed (a failure, a rollback, a caller that does not confirm: corrections
  and replays) leaves the cache emptied at the next begin, since it may have changed the shapes it was lent.
- An erasure in this process empties it at once (core.forgetting); one in another process moves the feed's mark.
On PostgreSQL several workers and API processes write at once, and a mark taken from snapshots (feed.py) does not
say that nobody else wrote: the cache is not used there.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from seamline.core.forgetting import register_holder
from seamline.identity.identifiers import Identifier
from seamline.identity.resolution import ProfileShape

# Bounds on what is kept (emptied whole when passed; a stream's recent people refill it in a few batches): about
# 250 bytes an identifier and 1 KB a shape (a dict of sets), so at most ~100 MB in the worker's process.
MAX_IDENTIFIERS = 150_000
MAX_SHAPES = 60_000
NO_HOLDER = 0  # profile ids start at 1


@dataclass(frozen=True, slots=True)
class Lent:
    """What the cache knew of a batch's identifiers: the single holder (or NO_HOLDER) of those it had, the shapes
    of the profiles they lead to (the batch's own from now on), and the blocks among cached profiles."""

    holders: dict[Identifier, int]
    shapes: dict[int, ProfileShape]
    blocks: set[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _Staged:
    generation: int
    thread: int
    mark: int
    holders: dict[Identifier, int | None]  # None: held by several profiles, read again next time
    shapes: dict[int, ProfileShape]
    gone: dict[int, int]  # profiles absorbed by the batch's merges, and the profile each ended in
    blocks: set[tuple[int, int]]


class GraphCache:
    """One per pipeline (per process); thread-safe, though a pipeline normally serves one worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: dict[Identifier, int] = {}
        self._shapes: dict[int, ProfileShape] = {}
        self._blocks: set[tuple[int, int]] = set()
        self._mark: int | None = None  # the feed's mark the cached state reflects
        self._generation = 0  # bumped by every begin: a batch's staging and confirmation must be the latest's
        self._lent = False  # a batch holds shapes lent by the cache and has not been confirmed
        self._staged: _Staged | None = None
        register_holder(self)

    def forget(self) -> None:
        """Empty everything (an erasure in this process: see core.forgetting)."""
        with self._lock:
            self._clear()
            self._mark = None

    def _clear(self) -> None:
        self._holders, self._shapes, self._blocks = {}, {}, set()
        self._staged = None

    @property
    def size(self) -> tuple[int, int]:
        """(identifiers, shapes) held."""
        return len(self._holders), len(self._shapes)

    def begin(self, mark: int) -> int:
        """A batch begins with the change feed at `mark` (read where it loads the graph); returns the batch's
        generation, which its `stage` must give back."""
        with self._lock:
            if self._lent or mark != self._mark:
                self._clear()
                self._mark = mark
            self._lent = False
            self._staged = None
            self._generation += 1
            return self._generation

    def lend(self, identifiers: Iterable[Identifier]) -> Lent:
        """What the cache holds of these identifiers. The shapes lent are the batch's to change: the cache trusts
        none of them again until the batch is confirmed."""
        with self._lock:
            self._lent = True
            holders = {i: h for i in identifiers if (h := self._holders.get(i)) is not None}
            wanted = {h for h in holders.values() if h != NO_HOLDER}
            shapes = {pid: shape for pid in wanted if (shape := self._shapes.get(pid)) is not None}
            blocks = {b for b in self._blocks if b[0] in shapes or b[1] in shapes} if self._blocks else set()
            return Lent(holders, shapes, blocks)

    def stage(
        self,
        generation: int,
        mark: int,
        holders: Mapping[Identifier, Sequence[int]],
        shapes: Mapping[int, ProfileShape],
        gone: Mapping[int, int],
        blocks: Iterable[tuple[int, int]],
    ) -> None:
        """What the batch of `generation` ended with (real profile ids), the feed at `mark` after its own change:
        taken in by `confirm` once its transaction committed."""
        staged = _Staged(
            generation,
            threading.get_ident(),
            mark,
            {i: (h[0] if h else NO_HOLDER) if len(h) <= 1 else None for i, h in holders.items()},
            dict(shapes),
            dict(gone),
            set(blocks),
        )
        with self._lock:
            if generation == self._generation:
                self._staged = staged

    def confirm(self) -> None:
        """The batch this thread staged committed: take in what it learnt."""
        with self._lock:
            staged = self._staged
            if staged is None or staged.thread != threading.get_ident() or staged.generation != self._generation:
                return
            self._staged = None
            if len(self._holders) + len(staged.holders) > MAX_IDENTIFIERS or (
                len(self._shapes) + len(staged.shapes) > MAX_SHAPES
            ):
                self._clear()
            for pid in staged.gone:
                self._shapes.pop(pid, None)
            # Identifiers of absorbed profiles that this batch did not see: their links moved to the survivor.
            survivors = set(staged.gone.values())
            if not survivors <= staged.shapes.keys():  # cannot happen: a batch's survivors are its live profiles
                self._clear()
                survivors = set()
            for survivor in survivors:
                for type_, values in staged.shapes[survivor].identifiers.items():
                    for value in values:
                        ident = Identifier(type_, value)
                        if self._holders.get(ident) in staged.gone:
                            self._holders[ident] = survivor
            for ident, holder in staged.holders.items():
                if holder is None:
                    self._holders.pop(ident, None)
                else:
                    self._holders[ident] = holder
            self._shapes.update(staged.shapes)
            self._blocks.update(staged.blocks)
            self._mark = staged.mark
            self._lent = False
