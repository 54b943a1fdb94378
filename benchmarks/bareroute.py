"""The bare route that `benchmarks/readpath.py` measures the audited read path against, served on its own.

The same framework (FastAPI, a declared query parameter), the same database (an engine made by Seamline's own
`create_db_engine`, so the same SQLite pragmas or the same PostgreSQL driver), the same point read by identifier
(the identifier's row and its profile's header by index), the same server settings as `seamline serve` (uvicorn,
one process, log level warning, no access log) — and no key check, no audit entry, no survivorship, no pool: one
driver connection held for the life of the process, read from the event loop.

    SEAMLINE_DATABASE_URL=sqlite:///… SEAMLINE_PORT=18123 python benchmarks/bareroute.py
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Query, Response

from seamline.core.db import create_db_engine

SQL = (
    "SELECT p.id, p.created_at, p.updated_at FROM identifiers i JOIN profiles p ON p.id = i.profile_id "
    "WHERE i.type = {0} AND i.value = {0}"
)


def build(database_url: str) -> FastAPI:
    engine = create_db_engine(database_url)
    is_sqlite = engine.dialect.name == "sqlite"
    sql = SQL.format("?" if is_sqlite else "%s")
    held: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        proxied = engine.raw_connection()
        driver: Any = proxied.driver_connection
        if not is_sqlite:
            proxied.rollback()
            driver.autocommit = True  # one statement, its own transaction, as SQLite's autocommit mode does
        held["driver"] = driver
        try:
            yield
        finally:
            proxied.close()
            engine.dispose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/bare/lookup")
    async def lookup(identifier: str = Query()) -> Response:
        kind, _, value = identifier.partition(":")
        row = held["driver"].execute(sql, (kind, value)).fetchone()
        if row is None:
            return Response(b'{"code":"not_found"}', status_code=404, media_type="application/json")
        body = {"id": row[0], "created_at": str(row[1]), "updated_at": str(row[2])}
        return Response(orjson.dumps(body), media_type="application/json")

    return app


def main() -> None:
    app = build(os.environ["SEAMLINE_DATABASE_URL"])
    port = int(os.environ["SEAMLINE_PORT"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)  # as `seamline serve`


if __name__ == "__main__":
    main()
