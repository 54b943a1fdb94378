"""One way to make a service's view from a stored row: each field of the view's dataclass is copied from the row's
attribute of the same name, unless given. Views stay apart from tables (a change of a table does not reach the
API by accident); this only saves writing the copy out field by field in every domain."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

V = TypeVar("V")
_FIELDS: dict[type, tuple[str, ...]] = {}


def view_of(cls: type[V], row: object, **given: Any) -> V:
    """An instance of the dataclass `cls` with its fields from `row`'s same-named attributes, or from `given`."""
    names = _FIELDS.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} is not a dataclass")
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return cls(**{name: given[name] if name in given else getattr(row, name) for name in names})
