"""The demo workspace a newcomer's first `seamline serve` starts with."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.sources.service import create_source, list_sources


@dataclass(frozen=True, slots=True)
class DemoSource:
    name: str
    kind: str
    origins: tuple[str, ...] = ()


DEMO_SOURCES = (
    DemoSource("web", "web", ("http://localhost:8000", "http://127.0.0.1:8000")),
    DemoSource("ios-app", "mobile"),
    DemoSource("call-center", "call-center"),
    DemoSource("crm", "crm"),
    DemoSource("cards-system", "core-system"),
)


def create_demo_sources(session: Session) -> list[tuple[str, str]]:
    """Create the demo sources on an empty workspace; returns (name, write key) for each one created."""
    if list_sources(session):
        return []
    return [
        (source.name, key)
        for source, key in (create_source(session, demo.name, demo.kind, origins=demo.origins) for demo in DEMO_SOURCES)
    ]
