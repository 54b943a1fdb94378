"""What the console's pages need, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from seamline.audit.service import AuditWriter
from seamline.core.ttl import TtlValue
from seamline.matching.realtime import Matcher
from seamline.pipeline.registry import Pipeline
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import source_names
from seamline.users.config import ConsoleConfig


@dataclass
class ConsoleContext:
    engine: Engine
    identity: Pipeline
    survivorship: SurvivorshipConfig
    audit: AuditWriter
    config: ConsoleConfig
    source_names: TtlValue[dict[int, str]]

    @classmethod
    def build(
        cls,
        engine: Engine,
        identity: Pipeline,
        survivorship: SurvivorshipConfig,
        audit: AuditWriter,
        config: ConsoleConfig,
    ) -> ConsoleContext:
        # A short cache: a source created a moment ago (the console's own, on its first correction) must show.
        return cls(engine, identity, survivorship, audit, config, source_names(engine, 1.0))


async def console_context(request: Request) -> ConsoleContext:
    """The dependency (async: a plain-def one would run in the thread pool)."""
    ctx: ConsoleContext = request.app.state.console
    return ctx


async def console_matcher(request: Request) -> Matcher:
    """The process's real-time matcher, the one the matching API uses (its index is built once per process)."""
    matcher: Matcher = request.app.state.matching
    return matcher


Match = Annotated[Matcher, Depends(console_matcher)]
