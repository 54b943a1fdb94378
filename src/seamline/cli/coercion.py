"""Typer coerces each parameter's value with a pydantic TypeAdapter, which it builds before asking whether there is
anything to coerce: a parameter nobody gave (`--help`, `--install-completion`, an option left out) costs an adapter
that turns None into None, a `limit: int = 50` left at its default one that turns 50 into 50, and the first adapter
costs importing pydantic's schema machinery (~0.08 s of a 0.4 s start).

This passes such values through Typer's own pass-through coercion (None stays None, or () for a multiple; a value
that already is the annotation's type is returned as it is) without building the adapter: only for no value, or for
a command's own default of exactly its plain type (bool, int, float, str). A value given on the command line, from
an environment variable or a prompt is coerced exactly as before. Imported by `seamline.cli`, before any command
runs; tests/cli/test_startup.py fails if it stops working (a simple command would import pydantic again).
"""

from __future__ import annotations

from typing import Any

from typer import _click as click
from typer._click.core import ParameterSource
from typer._coercion import PassThroughRuntimeParam
from typer.core import _TyperParameter

_process_value = _TyperParameter.process_value
_PLAIN = (bool, int, float, str)


def _needs_no_adapter(param: _TyperParameter, ctx: click.Context, value: Any) -> bool:
    if param._runtime_param is not None:
        return False  # built already: use it
    if value is None:
        return True
    annotation = param.type_descriptor.annotation
    is_default = param.name is not None and ctx.get_parameter_source(param.name) is ParameterSource.DEFAULT
    return is_default and annotation in _PLAIN and type(value) is annotation


def _process_value_lazily(self: _TyperParameter, ctx: click.Context, value: Any) -> Any:
    if not _needs_no_adapter(self, ctx, value):
        return _process_value(self, ctx, value)
    descriptor = self.type_descriptor
    self._runtime_param = PassThroughRuntimeParam(
        parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
    )
    try:
        return _process_value(self, ctx, value)
    finally:
        self._runtime_param = None  # a later value (a prompt's answer) is coerced by the real adapter


_TyperParameter.process_value = _process_value_lazily  # type: ignore[method-assign]  # see the module docstring
