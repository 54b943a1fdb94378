"""The app's client fixture, a plugin of the root conftest.

The app (FastAPI, every router, and through the matcher pandas and Splink) is imported when a test first asks for
a client, not when pytest starts: a test file that needs no app collects and runs without it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from seamline.config import Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app over an in-process transport (lifespan included); the worker is off so tests see the inbox."""
    create_app = importlib.import_module("seamline.app").create_app
    test_client_class: type[TestClient] = importlib.import_module("fastapi.testclient").TestClient
    with test_client_class(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client
