"""Creating the demo workspace on an empty database, through the paths users use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.demo.bank import channel_traffic, demo_people
from seamline.demo.sources import create_demo_sources


@dataclass(frozen=True, slots=True)
class DemoWorkspace:
    """What a first start created, and the traffic still to send once the server answers."""

    keys: dict[str, str]
    traffic: list[tuple[str, dict[str, Any]]]


def create_demo_workspace(engine: Engine) -> DemoWorkspace | None:
    """On an empty workspace, create the demo bank; None when the workspace already has sources."""
    with unit_of_work(engine) as session:
        keys = create_demo_sources(session)
    if not keys:
        return None
    people = demo_people()
    return DemoWorkspace(keys, channel_traffic(people, utcnow()))
