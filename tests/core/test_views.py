"""view_of: a view's fields copied from a row by name, the given ones taken as given."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from seamline.core.views import view_of


@dataclass(frozen=True, slots=True)
class ThingView:
    id: int
    name: str
    tags: tuple[str, ...]


def test_fields_come_from_same_named_attributes_unless_given() -> None:
    row = SimpleNamespace(id=7, name="Ada", tags=["a", "b"], secret_hash="never copied")
    assert view_of(ThingView, row, tags=tuple(row.tags)) == ThingView(7, "Ada", ("a", "b"))


def test_a_missing_attribute_is_an_error_not_a_blank() -> None:
    with pytest.raises(AttributeError, match="tags"):
        view_of(ThingView, SimpleNamespace(id=1, name="x"))


def test_only_dataclasses_are_views() -> None:
    with pytest.raises(TypeError, match="not a dataclass"):
        view_of(SimpleNamespace, SimpleNamespace())
