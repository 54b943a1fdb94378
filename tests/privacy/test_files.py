"""No copy of an erased person is left in any file of the data folder: the SQLite database, its WAL and shared
memory, and whatever else lives there, searched byte by byte right after the erasure answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.privacy.people import ADA_NEEDLES, world


def _files_mentioning(folder: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        hits = [n for n in needles if n.encode() in data]
        if hits:
            found[str(path.relative_to(folder))] = hits
    return found


def test_after_erasure_no_file_in_the_data_folder_holds_the_person(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people: dict[str, Any] = world(client, engine, settings)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "dpo-desk", ["identity:admin"])
    admin = {"Authorization": f"Bearer {key}"}
    before = _files_mentioning(settings.data_dir, ADA_NEEDLES)
    if settings.is_sqlite:
        assert any(name.endswith("-wal") for name in before)  # the search sees the person where they are
    created = client.post("/v1/privacy/requests", json={"kind": "erasure", "profile_id": people["ada"]}, headers=admin)
    done = client.post(f"/v1/privacy/requests/{created.json()['id']}/complete", headers=admin)
    assert done.status_code == 200, done.text
    assert _files_mentioning(settings.data_dir, ADA_NEEDLES) == {}
    # Grace, who was not erased, is still on disk: the search would have found a survivor.
    assert _files_mentioning(settings.data_dir, ("grace@example.com",)) or not settings.is_sqlite
