"""A decision request read without FastAPI's body machinery, when it is plainly valid.

FastAPI reads `POST /v1/decisions` by solving the route's dependencies (the key, the profile API's context, the
decisions setup: each a cache key, its scopes and the request's parts looked at again) and validating the JSON
through the `DecisionIn` model: about a third of the endpoint's CPU in-process (cProfile, 100,000 profiles, 200
actions), as much as the decision's own reads. `plain_asked` takes the body's bytes and answers what `DecisionIn`
would validate to, for a body whose every value is plainly valid (the right JSON types exactly, within their
bounds); anything else — malformed JSON, a wrong type pydantic might still coerce (`"3"` for a limit, `1` for
`explain`), a value out of bounds, a body that is not UTF-8 JSON — is None, and the caller lets FastAPI read the
request its own way, so every error answer (its status, body and field names) stays FastAPI's and pydantic's.
"""

from __future__ import annotations

from typing import Any, NamedTuple, TypeGuard

import orjson

# The bounds of DecisionIn and ContextIn (api/decisions.py); tests check a body at each bound both ways.
PERSON_MAX = 400
CHANNEL_MAX = 32
CONTEXT_MAX = 100
LIMIT_MIN, LIMIT_MAX = 1, 50
BODY_MAX = 16_384  # bytes: a plain request is a few hundred; a larger one goes FastAPI's way (and its body limit)


class Asked(NamedTuple):
    """What a decision request asks, as `DecisionIn` holds it."""

    person: str
    channel: str
    placement: str | None
    journey: str | None
    case: str | None
    limit: int | None
    explain: bool


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI would read a body of this type as JSON and nothing else about it matters (`application/json`,
    any parameters; anything else goes FastAPI's way)."""
    if content_type is None:
        return False
    return content_type.partition(";")[0].strip().lower() == "application/json"


def is_small(content_length: str | None) -> bool:
    """Whether a body's declared length is at most `BODY_MAX` (none declared, or not a number: FastAPI's way)."""
    return (
        content_length is not None
        and content_length.isascii()
        and content_length.isdigit()
        and int(content_length) <= BODY_MAX
    )


def _text(value: Any, longest: int) -> TypeGuard[str]:
    return type(value) is str and len(value) <= longest


def _optional(value: Any, longest: int) -> bool:
    return value is None or (type(value) is str and len(value) <= longest)


def plain_asked(raw: bytes) -> Asked | None:
    """The request `DecisionIn` would validate `raw` to, or None when it is not plainly valid (see the module)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    person, context = data.get("person"), data.get("context")
    if not _text(person, PERSON_MAX) or type(context) is not dict:
        return None
    channel, placement = context.get("channel"), context.get("placement")
    journey, case = context.get("journey"), context.get("case")
    if not _text(channel, CHANNEL_MAX) or not all(_optional(v, CONTEXT_MAX) for v in (placement, journey, case)):
        return None
    limit, explain = data.get("limit"), data.get("explain", False)
    if limit is not None and not (type(limit) is int and LIMIT_MIN <= limit <= LIMIT_MAX):
        return None
    if type(explain) is not bool:
        return None
    return Asked(person, channel, placement, journey, case, limit, explain)
