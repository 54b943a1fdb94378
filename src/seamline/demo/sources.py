"""The demo's sources: the bank's channels and the product systems that each kept their own customers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.sources.service import create_source, list_sources


@dataclass(frozen=True, slots=True)
class DemoSource:
    name: str
    kind: str
    origins: tuple[str, ...] = ()


# The names the synthetic event stream sends from (seamline.synthetic.events), so every demo event has its source.
DEMO_SOURCES = (
    DemoSource("web", "web", ("http://localhost:8000", "http://127.0.0.1:8000")),
    DemoSource("ios-app", "mobile"),
    DemoSource("android-app", "mobile"),
    DemoSource("call-center", "call-center"),
    DemoSource("crm", "crm"),
    DemoSource("core-banking", "core-system"),
    DemoSource("cards-system", "core-system"),
    DemoSource("mortgage-system", "core-system"),
    DemoSource("web-shop", "core-system"),
)


def create_demo_sources(session: Session) -> dict[str, str]:
    """Create the demo sources on an empty workspace; returns each created source's write key by name."""
    if list_sources(session):
        return {}
    created = (create_source(session, demo.name, demo.kind, origins=demo.origins) for demo in DEMO_SOURCES)
    return {source.name: key for source, key in created}
