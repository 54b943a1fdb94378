"""The demo bank's mortgage application, sent through the tracking API and the worker, is a funnel worth looking
at: people drop off at every step, some of them get the documents reminder and phone the call centre, and some
identify themselves again on another channel."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.analytics.service import Analytics, FunnelQuery
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.demo.bank import demo_people
from seamline.demo.funnel import STEPS, funnel_traffic
from seamline.demo.sources import create_demo_sources
from tests.support.flows import drain, send


def test_the_demo_funnel_has_drop_offs_detours_and_repeated_identification(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    with unit_of_work(engine) as session:
        keys = create_demo_sources(session)
    traffic = funnel_traffic(demo_people(400), datetime(2026, 12, 5, tzinfo=UTC))
    batch: list[dict[str, object]] = []
    source = traffic[0][0]
    for name, message in [*traffic, ("", {})]:
        if batch and (name != source or len(batch) == 100):
            send(client, keys[source], *batch)
            batch = []
        source = name
        batch.append(message)
    drain(engine, settings)

    analytics = Analytics(engine)
    funnel = analytics.funnel(FunnelQuery(STEPS, breakdown="device"))
    reached = [f.reached for f in funnel.overall]
    assert reached[0] > reached[1] > reached[2] > reached[3] > 0
    assert {f.group for f in funnel.figures} >= {"ios", "android", "(none)"}
    view = analytics.paths(FunnelQuery(STEPS), at=1, depth=3)
    # The commonest detour: the documents reminder by email, then a call to the call centre (identified again).
    assert view.paths[0].path == ("email: mortgage_documents_needed", "identify (phone)", "Call Completed (phone)")
    assert view.paths[0].people > view.people // 5
    found = analytics.repeated_identification()
    assert found.days.across_channels > 0
