"""An ASGI app's lifespan run in this event loop, as uvicorn runs it, for the benchmarks that drive an app with no
socket (readpath_inprocess.py, readpath_breakdown.py, decisions_inprocess.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[None]:
    """The app started (its writers, held connections) for the block, and stopped after it."""
    started: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    stopping: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await stopping.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, stopping.get,
                                       started.put))  # fmt: skip
    assert (await started.get())["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await stopping.put({"type": "lifespan.shutdown"})
        await lifespan
