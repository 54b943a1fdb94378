"""The timeline's page token: what it encodes comes back, and a damaged one is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seamline.profiles.cursor import decode_cursor, encode_cursor


def test_a_cursor_gives_back_where_the_page_ended() -> None:
    at = datetime(2026, 11, 22, 9, 30, 15, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(at, 42)) == (at, 42)


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor(None) is None
    assert decode_cursor("") is None


@pytest.mark.parametrize("damaged", ["not-base64!!", "bm90IGpzb24=", "WzEsMiwzXQ==", "WyJ4IiwxXQ=="])
def test_a_damaged_cursor_is_refused(damaged: str) -> None:
    with pytest.raises(ValueError, match="not a timeline cursor"):
        decode_cursor(damaged)
