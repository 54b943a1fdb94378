"""Hand-read ids: empty means none, and a number no row can have is refused naming the field."""

from __future__ import annotations

import pytest

from seamline.core.errors import InvalidInput
from seamline.core.ids import MAX_ID, MIN_ID, is_storable, parse_id


def test_an_id_is_read_within_the_database_range() -> None:
    assert parse_id("before", "") is None
    assert parse_id("before", "  ") is None
    assert parse_id("before", " 42 ") == 42
    assert parse_id("before", str(MAX_ID)) == MAX_ID
    assert parse_id("before", str(MIN_ID)) == MIN_ID
    assert is_storable(MAX_ID)
    assert not is_storable(MAX_ID + 1)


@pytest.mark.parametrize("text", [str(MAX_ID + 1), str(MIN_ID - 1), "9" * 5000, "4.2", "--1", "-", "x", "١٢"])
def test_anything_else_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_id("before", text)
    assert [(e.field, e.code) for e in refused.value.errors] == [("before", "invalid")]
