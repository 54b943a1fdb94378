"""A hot read's path and query parameters read and validated without FastAPI's dependency solver, when they are
plain enough that doing so gives exactly FastAPI's values.

FastAPI's `solve_dependencies` inspects each parameter's annotation again on every request (is it a sequence, a
model, JSON; its aliases) before it validates the value: in-process, ~15-25 µs of CPU per parameter, so the
consent check's five cost about as much as its three reads. `PlainParams` does that inspection once, when the
route is built, and on each request validates each value with the same pydantic field FastAPI would
(`ModelField.validate`, the same constraints, the same conversion). It only ever answers for requests FastAPI
would accept: a parameter missing, or one that does not validate, and it gives up (`None`), and the caller lets
FastAPI's own handler read the request — so every error answer, its status, its body and the order of checks,
stays FastAPI's.

Plain means: the endpoint takes the request and path and query parameters only (no dependencies, headers,
cookies, body, response or background parameters), each a single `str` or `int` (optionally `| None` with a
`None` default), under its own name (no alias).

Two shortcuts, each giving what the long way gives: a `str` parameter without constraints is the text as given
(pydantic's validation returns a string unchanged; ~1.5 µs a parameter), and a query string without `%` or `+`
is split as it stands (Starlette's `parse_qsl` would unquote nothing in it; ~9 µs for the consent check's query).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant

_PLAIN_TYPES: tuple[Any, ...] = (str, int, str | None, int | None)
_ABSENT_ONLY = (
    "header_params",
    "cookie_params",
    "body_params",
    "dependencies",
    "websocket_param_name",
    "http_connection_param_name",
    "response_param_name",
    "background_tasks_param_name",
    "security_scopes_param_name",
)


@dataclass(frozen=True, slots=True)
class _Param:
    name: str
    field: Any  # FastAPI's ModelField: `validate(value, values, loc=...)` is what its solver calls
    required: bool
    loc: tuple[str, str]
    is_text: bool  # a `str` without constraints: the value is the text as given


def _plain(fields: Sequence[Any], where: str) -> list[_Param] | None:
    plain = []
    for field in fields:
        info = field.field_info
        if field.alias != field.name or getattr(info, "validation_alias", None) is not None:
            return None
        if info.annotation not in _PLAIN_TYPES:
            return None
        required = bool(info.is_required())
        if not required and field.default is not None:
            return None
        is_text = info.annotation in (str, str | None) and not info.metadata
        plain.append(_Param(field.name, field, required, (where, field.name), is_text))
    return plain


@dataclass(frozen=True, slots=True)
class PlainParams:
    """How to read a route's parameters; `of(dependant)` is None when they are not all plain."""

    request_name: str
    path: tuple[_Param, ...]
    query: tuple[_Param, ...]

    @classmethod
    def of(cls, dependant: Dependant) -> PlainParams | None:
        if any(getattr(dependant, attribute, True) for attribute in _ABSENT_ONLY):
            return None
        if dependant.request_param_name is None:
            return None
        path, query = _plain(dependant.path_params, "path"), _plain(dependant.query_params, "query")
        if path is None or query is None:
            return None
        return cls(dependant.request_param_name, tuple(path), tuple(query))

    def values(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's arguments, or None where FastAPI would answer with a validation error."""
        values: dict[str, Any] = {self.request_name: request}
        query = _query(request) if self.query else {}
        for params, given in ((self.path, request.path_params), (self.query, query)):
            group: dict[str, Any] = {}  # what FastAPI passes the validator: this group's values so far
            for param in params:
                raw = given.get(param.name)
                if raw is None:
                    if param.required:
                        return None
                    group[param.name] = None
                    continue
                if param.is_text:
                    group[param.name] = raw
                    continue
                value, errors = param.field.validate(raw, group, loc=param.loc)
                if errors:
                    return None
                group[param.name] = value
            values.update(group)
        return values


def _query(request: Request) -> Mapping[str, str]:
    """The request's query parameters, the last value of each name (as `request.query_params.get`)."""
    raw: bytes = request.scope.get("query_string", b"")
    if b"%" in raw or b"+" in raw:
        return request.query_params
    query: dict[str, str] = {}
    for pair in raw.decode("latin-1").split("&"):  # as Starlette decodes it; parse_qsl's separator
        if pair:
            name, _, value = pair.partition("=")
            query[name] = value
    return query
