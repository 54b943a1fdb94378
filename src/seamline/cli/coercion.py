"""Typer coerces each parameter's value with a pydantic TypeAdapter, which it builds before asking whether there is a
value at all: a parameter nobody gave (`--help`, `--install-completion`, an option left out) costs an adapter that
coerces None to None, and the first one costs importing pydantic's schema machinery (~0.08 s of a 0.4 s start).
This lets such a parameter through Typer's own handling of "no value" (None, or () for a multiple) without building
the adapter; a value that is given is coerced exactly as before. Imported by `seamline.cli`, before any command runs.
"""

from __future__ import annotations

from typing import Any

from typer import _click as click
from typer._coercion import PassThroughRuntimeParam
from typer.core import _TyperParameter

_process_value = _TyperParameter.process_value


def _process_value_lazily(self: _TyperParameter, ctx: click.Context, value: Any) -> Any:
    if value is not None or self._runtime_param is not None:
        return _process_value(self, ctx, value)
    # Typer's RuntimeParam.coerce answers None before it looks at its adapter; this one has none to build.
    descriptor = self.type_descriptor
    self._runtime_param = PassThroughRuntimeParam(
        parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
    )
    try:
        return _process_value(self, ctx, value)
    finally:
        self._runtime_param = None  # a later value (a prompt's answer) is coerced by the real adapter


_TyperParameter.process_value = _process_value_lazily  # type: ignore[method-assign]  # see the module docstring
