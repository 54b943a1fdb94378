"""What an event says about a person (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from seamline.profiles.facts import channel_of


@pytest.mark.parametrize(
    ("context", "channel"),
    [
        ({"channel": "call-center"}, "call-center"),
        ({"library": {"name": "analytics-ios"}}, "mobile"),
        ({"library": {"name": "analytics.js"}}, "web"),
        ({"library": {"name": "analytics-python"}}, "server"),
        ({"library": {}}, None),
        ({"library": {"name": 5}}, None),
        ({"library": {"name": ["ios"]}}, None),
    ],
)
def test_the_channel_comes_from_the_context(context: dict[str, Any], channel: str | None) -> None:
    assert channel_of({"type": "track", "context": context}) == channel
