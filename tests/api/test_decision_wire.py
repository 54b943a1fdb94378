"""A plainly valid decision request read without pydantic is what `DecisionIn` validates it to; anything doubtful
is left to pydantic (None)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from seamline.api.decision_wire import BODY_MAX, Asked, is_json, is_small, plain_asked
from seamline.api.decisions import DecisionIn

WEB = {"channel": "web"}
BASE: dict[str, Any] = {"person": "email:ada@example.com", "context": WEB}


def _pydantic(raw: bytes) -> Asked | None:
    try:
        body = DecisionIn.model_validate_json(raw)
    except ValidationError:
        return None
    c = body.context
    return Asked(body.person, c.channel, c.placement, c.journey, c.case, body.limit, body.explain)


PLAIN = [
    BASE,
    {**BASE, "limit": 1},
    {**BASE, "limit": 50, "explain": True},
    {**BASE, "explain": False, "limit": None},
    {**BASE, "person": "p" * 400},
    {**BASE, "context": {"channel": "c" * 32, "placement": "x" * 100, "journey": "j" * 100, "case": "k" * 100}},
    {**BASE, "context": {"channel": "web", "placement": None, "journey": None, "case": None}},
    {**BASE, "context": {"channel": "web", "other": 1}, "unknown": [1, 2]},  # extra keys are ignored, as pydantic
    {**BASE, "person": "email:\u00e9l\u00e8ve@example.com"},
]


@pytest.mark.parametrize("body", PLAIN)
def test_a_plain_request_reads_as_pydantic_reads_it(body: dict[str, Any]) -> None:
    raw = orjson.dumps(body)
    asked = plain_asked(raw)
    assert asked is not None
    assert asked == _pydantic(raw)


NOT_PLAIN: list[Any] = [
    {**BASE, "person": "p" * 401},
    {**BASE, "context": {"channel": "c" * 33}},
    {**BASE, "context": {"channel": "web", "placement": "x" * 101}},
    {**BASE, "context": {"channel": "web", "journey": "j" * 101}},
    {**BASE, "context": {"channel": "web", "case": "k" * 101}},
    {**BASE, "limit": 0},
    {**BASE, "limit": 51},
    {**BASE, "limit": "3"},  # pydantic coerces it: its way, not ours
    {**BASE, "limit": 3.0},
    {**BASE, "limit": True},
    {**BASE, "explain": 1},
    {**BASE, "explain": "yes"},
    {**BASE, "explain": None},
    {**BASE, "person": 42},
    {**BASE, "person": None},
    {"context": WEB},
    {"person": "email:ada@example.com"},
    {**BASE, "context": "web"},
    {**BASE, "context": {}},
    {**BASE, "context": {"channel": 7}},
    [BASE],
    "text",
]


@pytest.mark.parametrize("body", NOT_PLAIN)
def test_anything_doubtful_is_left_to_pydantic(body: Any) -> None:
    assert plain_asked(orjson.dumps(body)) is None


@pytest.mark.parametrize(
    "raw", [b"", b"{", b'{"person": NaN}', b"\xef\xbb\xbf{}", '{"person": "\u00e9"}'.encode("utf-16"), b"\xff"]
)
def test_bytes_that_are_not_plain_utf8_json_are_left_to_fastapi(raw: bytes) -> None:
    assert plain_asked(raw) is None


def test_only_application_json_is_read_the_plain_way() -> None:
    assert is_json("application/json")
    assert is_json("Application/JSON; charset=utf-8")
    assert not is_json(None)
    assert not is_json("application/vnd.api+json")  # FastAPI reads it as JSON: it goes FastAPI's way
    assert not is_json("text/plain")


def test_only_a_small_declared_body_is_read_the_plain_way() -> None:
    assert is_small("300")
    assert is_small(str(BODY_MAX))
    assert not is_small(str(BODY_MAX + 1))
    assert not is_small(None)  # chunked: FastAPI's way, with its body limit
    assert not is_small("12abc")
    assert not is_small("-1")
    assert not is_small("\u00b2")  # a digit to str.isdigit, not to int()
