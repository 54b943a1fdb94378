"""Typed builders for test data, through the same services the product uses."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from seamline.core.db import unit_of_work
from seamline.core.principal import Principal
from seamline.sources.service import SourceView, create_source
from seamline.users.config import ConsoleConfig
from seamline.users.service import UserView, create_user


def make_source(
    engine: Engine,
    name: str = "web",
    kind: str = "web",
    *,
    origins: Sequence[str] = (),
    rate_limit_per_second: float | None = None,
) -> tuple[SourceView, str]:
    """Create a source; returns it and its write key."""
    with unit_of_work(engine) as session:
        return create_source(session, name, kind, origins=origins, rate_limit_per_second=rate_limit_per_second)


CONSOLE_PASSWORD = "correct horse battery staple"


def make_user(engine: Engine, username: str = "ada", role: str = "agent", *, name: str | None = None) -> UserView:
    """Create a console user whose password is CONSOLE_PASSWORD."""
    with unit_of_work(engine) as session:
        return create_user(
            session,
            username,
            role,
            CONSOLE_PASSWORD,
            display_name=name,
            actor=Principal(name="cli:test", kind="operator", scopes=frozenset(), surface="cli"),
            config=ConsoleConfig(),
        )
