"""Every command's tests live here; the fixtures they share with their domain's tests come from that domain."""

from __future__ import annotations

from tests.imports.conftest import source_db_url, source_postgres_url
from tests.preferences.conftest import ada

__all__ = ["ada", "source_db_url", "source_postgres_url"]
