"""Fixtures of the tracking API's tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.support.builders import make_source


@pytest.fixture
def key(engine: Engine) -> str:
    """A source's write key (one source per test)."""
    _source, write_key = make_source(engine)
    return write_key
