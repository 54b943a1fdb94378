"""A long read streamed page by page: each page read in a transaction of its own, what the caller does beside the
read (its audit entry) in the same transaction, then the page rendered and handed on. A read of millions of rows
holds one page in memory, and no transaction stays open while the reader of the stream is slow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.db import unit_of_work


class Paged(Protocol):
    @property
    def next_after(self) -> int | None:
        """The keyset the next page starts after; None after the last page."""
        ...


P = TypeVar("P", bound=Paged)


def stream_pages(
    engine: Engine,
    read: Callable[[Session, int], P],
    beside: Callable[[Session, P], None],
    render: Callable[[P, bool], str],
) -> Iterator[str]:
    """`read(session, after)` each page from keyset 0 on, `beside(session, page)` in the same transaction, then
    yield `render(page, first)` (`first` for the first page: a CSV header)."""
    after: int | None = 0
    first = True
    while after is not None:
        with unit_of_work(engine) as session:
            page = read(session, after)
            beside(session, page)
        yield render(page, first)
        first = False
        after = page.next_after
