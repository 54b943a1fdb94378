"""Every prepared read in the code base names its row type, so no `Any` leaks from a read into a service."""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import TextClause

import seamline
from seamline.core.prepared import Prepared

# Matching and Spark pull in pandas, DuckDB and Splink and hold no prepared statement.
_SKIPPED = ("seamline.matching", "seamline.migrations")


def _prepared_statements() -> dict[str, Prepared[object]]:
    found: dict[str, Prepared[object]] = {}
    for module in pkgutil.walk_packages(seamline.__path__, "seamline."):
        if module.name.startswith(_SKIPPED):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if isinstance(value, Prepared):
                found[f"{module.name}.{name}"] = value
    return found


def test_every_prepared_read_names_its_row_type() -> None:
    statements = _prepared_statements()
    reads = {
        name: prepared
        for name, prepared in statements.items()
        if isinstance(prepared.statement, Select | TextClause)  # writes return nothing to type
    }
    assert len(reads) > 20  # the walk found the domains' reads
    assert [name for name, prepared in reads.items() if not prepared.typed] == []


def test_an_untyped_read_is_reported() -> None:
    from sqlalchemy import column, select, table

    assert not Prepared(select(column("id")).select_from(table("t"))).typed
