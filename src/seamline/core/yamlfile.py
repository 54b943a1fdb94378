"""Operator-written YAML files read with the line of every key, so a problem names its file, line and field
(trigger rules, surveys): one loader, one error shape, one reader of nested mappings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


class FileError(ValueError):
    """A file that cannot be used: `file`, `line` and `field` say where, `problem` what."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {field}: {message}")
        self.file, self.line, self.field, self.problem = file, line, field, message


class Lines(dict[str, Any]):
    """A mapping that remembers its own line and the line of each of its keys (1-based)."""

    line: int = 0
    lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Lines:
    out = Lines()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        # Keys as written: YAML 1.1 would read the key `on` as the boolean true.
        key = str(key_node.value if isinstance(key_node, yaml.ScalarNode) else loader.construct_object(key_node))
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_mapping(text: str, file: str, error: type[FileError], field: str, shape: str) -> Lines:
    """The file's top mapping, its lines kept; `error` at invalid YAML or when the file is not a mapping (`field`
    and `shape` say what the file should be)."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader that records line numbers
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise error(file, line, "yaml", f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(raw, Lines):
        raise error(file, None, field, shape)
    return raw


class Reader:
    """Reads one file's mappings, raising its error at the first problem with the line it is on."""

    def __init__(self, file: str, error: type[FileError]) -> None:
        self.file, self.error = file, error

    def fail(self, where: Mapping[str, Any], key: str | None, path: str, message: str) -> FileError:
        line = None
        if isinstance(where, Lines):
            line = where.lines.get(key, where.line) if key is not None else where.line
        return self.error(self.file, line, path, message)

    def known(self, value: Mapping[str, Any], allowed: set[str], prefix: str = "") -> None:
        """Refuse the first key of `value` not `allowed` (a typo must not be read as nothing)."""
        unknown = sorted(set(value) - allowed)
        if unknown:
            path = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
            raise self.fail(value, unknown[0], path, f"unknown field; use {', '.join(sorted(allowed))}")

    def mapping(self, parent: Mapping[str, Any], key: str, path: str, allowed: set[str]) -> Mapping[str, Any]:
        """`parent[key]`, which must be a mapping of `allowed` keys."""
        value = parent[key]
        if not isinstance(value, Mapping):
            raise self.fail(parent, key, path, "must be a mapping")
        self.known(value, allowed, path)
        return value
