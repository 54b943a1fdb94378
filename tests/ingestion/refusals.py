"""What the tracking API's refusal tests share: an event, the inbox's row count, and the check of an error answer."""

from __future__ import annotations

from typing import Any

import httpx2
from sqlalchemy import Engine, text

Problem = tuple[int | None, str, str]  # (index, field, code) of one item of error.errors

TRACK = {"userId": "u-1", "event": "Signed Up"}


def count_events(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())


def refused(
    response: httpx2.Response, status: int, code: str, problems: list[Problem] | None = None, case: object = ""
) -> dict[str, Any]:
    """Check an error answer: its status, JSON content type, code and, when given, each (index, field, code)."""
    assert response.status_code == status, (case, response.text)
    assert response.headers["content-type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, (case, error)
    assert isinstance(error["message"], str)
    assert error["message"]
    if problems is not None:
        assert [(e["index"], e["field"], e["code"]) for e in error["errors"]] == problems, (case, error)
    return error
