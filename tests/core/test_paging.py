"""A long read streamed page by page: every page once, in order, the header only on the first, and what the caller
does beside each read in that page's own transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.paging import stream_pages


@dataclass(frozen=True)
class _Page:
    items: list[int]
    next_after: int | None


def test_pages_in_order_with_the_caller_beside_each_read_in_its_transaction(engine: Engine) -> None:
    items = list(range(1, 8))
    sessions: list[Session] = []
    beside: list[tuple[int, list[int]]] = []

    def read(session: Session, after: int) -> _Page:
        sessions.append(session)
        page = [i for i in items if i > after][:3]
        return _Page(page, page[-1] if len(page) == 3 else None)

    def note(session: Session, page: _Page) -> None:
        beside.append((sessions.index(session), page.items))

    texts = stream_pages(engine, read, note, lambda page, first: ("header\n" if first else "") + f"{page.items}\n")
    assert next(texts) == "header\n[1, 2, 3]\n"
    assert len(sessions) == 1  # lazily: the next page is read only when asked for
    assert list(texts) == ["[4, 5, 6]\n", "[7]\n"]
    assert beside == [(0, [1, 2, 3]), (1, [4, 5, 6]), (2, [7])]  # each with its own page's session
    assert len({id(s) for s in sessions}) == 3
