"""The timeline's page token: where the last page ended (event time and id), opaque to callers. Pure."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson

from seamline.core.ids import is_storable


def encode_cursor(at: datetime, event_id: int) -> str:
    """A token for the page after the event at `at` with id `event_id`."""
    return base64.urlsafe_b64encode(orjson.dumps([at.isoformat(), event_id])).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """Where a token says the last page ended; None for no token, ValueError for one this code did not make."""
    if not cursor:
        return None
    try:
        at, event_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        moment = datetime.fromisoformat(at)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValueError("not a timeline cursor") from None
    if type(event_id) is not int or not is_storable(event_id):  # a forged token: no event has that id
        raise ValueError("not a timeline cursor")
    return moment, event_id
