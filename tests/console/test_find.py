"""Finding a customer by a misspelt name in the console and through the profile search API: the matcher when a
model is trained, the plain name search before; both answer alike, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from tests.console.conftest import SignIn
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile

BY_EAR = "Cathrin Maurisen"  # both ends of both names wrong: the plain search cannot find her
TYPED = "Katherine Morrisen"


def test_find_uses_the_matcher_once_a_model_is_trained(
    console: TestClient,
    sign_in: SignIn,
    engine: Engine,
    settings: Settings,
    trained_model: TrainedModel,
    tmp_path: Path,
) -> None:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "silos")
    her = {_profile(engine, KATHERINE.record_key, "checking"), _profile(engine, KATHRYN.record_key, "mortgage")}
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm", ["profiles:read"])
    headers = {"Authorization": f"Bearer {key}"}
    sign_in("agent")

    # No model yet: the plain search finds a typo, not a name heard on the phone.
    plain = console.get("/console/find", params={"q": TYPED})
    assert any(f'href="/console/customers/{pid}"' in plain.text for pid in her)
    assert "% alike" in plain.text
    assert not any(
        f'href="/console/customers/{pid}"' in console.get("/console/find", params={"q": BY_EAR}).text for pid in her
    )
    api_plain = client_search(console, headers, TYPED)
    assert {h["method"] for h in api_plain} == {"plain"}

    matching_context(settings, trained_model)  # installs the model the app's matcher picks up
    found = console.get("/console/find", params={"q": BY_EAR})
    assert found.status_code == 200
    for pid in her:
        assert f'href="/console/customers/{pid}"' in found.text
    assert "first name sounds alike" in found.text
    api = client_search(console, headers, BY_EAR)
    assert {h["profile_id"] for h in api[:2]} == her
    assert {h["method"] for h in api} == {"matcher"}
    listed = [int(pid) for pid in re.findall(r'href="/console/customers/(\d+)"', found.text)]
    assert listed[: len(api)] == [h["profile_id"] for h in api][: len(listed)]


def client_search(client: TestClient, headers: dict[str, str], name: str) -> list[dict[str, object]]:
    answer = client.get("/v1/profiles/search", params={"name": name}, headers=headers)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()
    return found
