"""Reproducible draws from a seeded `random.Random`, fast enough for millions of values."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed weighted choice; unlike `random.choices` it sums the weights once, not on every draw."""

    __slots__ = ("_cumulative", "_total", "_values")

    def __init__(self, values: Sequence[T], weights: Sequence[float]) -> None:
        if len(values) != len(weights) or not values:
            raise ValueError("values and weights must be non-empty and of one length")
        self._values = tuple(values)
        self._cumulative = list(accumulate(weights))
        self._total = self._cumulative[-1]

    def pick(self, rng: random.Random) -> T:
        """One value, drawn with its weight."""
        return self._values[bisect(self._cumulative, rng.random() * self._total)]


def random_uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from `rng`, so it is reproducible."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def below(rng: random.Random, n: int) -> int:
    """An int in [0, n) for n under 2**50; one float draw, several times faster than `randrange`."""
    return int(rng.random() * n)


def pick(rng: random.Random, values: Sequence[T]) -> T:
    """One of `values`, evenly; the fast form of `random.choice`."""
    return values[int(rng.random() * len(values))]
