"""The supervisors' match review pages on SQLite and PostgreSQL: the queue with both customers named, the
field-by-field comparison, accept (merged once the worker has run), reject (kept apart), roles, CSRF, audit,
escaping, and the empty states before and after a model exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.matching.model import TrainedModel
from seamline.matching.service import get_review, list_reviews, run_batch
from tests.console.conftest import SignIn
from tests.matching.people import HANDMADE, KATHERINE, KATHRYN, PAUL, PETER, background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.support.flows import drain


def _pair_of(engine: Engine, a: int, b: int) -> int:
    with unit_of_work(engine, write=False) as session:
        pending = list_reviews(session, limit=500)
    return next(v.id for v in pending if {v.left_profile_id, v.right_profile_id} == {a, b})


@pytest.fixture
def queued(engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path) -> None:
    """Silo customers imported and one batch run: sure pairs merged, unsure ones waiting for a reviewer."""
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "silos")
    with unit_of_work(engine) as session:
        run_batch(session, matching_context(settings, trained_model))
    drain(engine, settings)


def test_only_supervisors_review_matches(console: TestClient, sign_in: SignIn, queued: None) -> None:
    token = sign_in("agent")
    assert "/console/matches" not in console.get("/console").text
    assert console.get("/console/matches").status_code == 403
    assert console.get("/console/matches/1").status_code == 403
    refused = console.post("/console/matches/1/decision", data={"csrf_token": token, "decision": "accept"})
    assert refused.status_code == 403
    sign_in("supervisor")
    home = console.get("/console")
    assert 'href="/console/matches"' in home.text


def test_the_queue_names_both_customers_likeliest_first(
    console: TestClient, sign_in: SignIn, engine: Engine, queued: None
) -> None:
    sign_in("supervisor")
    page = console.get("/console/matches")
    assert page.status_code == 200
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    pair = _pair_of(engine, katherine, kathryn)
    assert f'href="/console/matches/{pair}"' in page.text
    assert f"<bdi>Katherine Morrison</bdi> #{katherine}" in page.text  # names isolated for bidi text
    assert f"<bdi>Katharine Morrisson</bdi> #{kathryn}" in page.text
    shown = [float(p) for p in re.findall(r"<td>([\d.]+)%</td>", page.text)]
    assert shown == sorted(shown, reverse=True)
    assert shown
    with unit_of_work(engine, write=False) as session:
        read = [e for e in entries(session, limit=500) if e.detail.get("view") == "console_matches"]
    assert {int(e.subject_id) for e in read} >= {katherine, kathryn}
    assert all(e.actor == "console:supervisor" and e.surface == "console" for e in read)
    merged = console.get("/console/matches?status=merged")
    assert merged.status_code == 200
    assert "Merged by the model" in merged.text
    assert console.get("/console/matches?status=maybe").status_code == 400


def test_the_comparison_shows_each_field_its_level_and_weight(
    console: TestClient, sign_in: SignIn, engine: Engine, queued: None
) -> None:
    sign_in("supervisor")
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    pair = _pair_of(engine, katherine, kathryn)
    with unit_of_work(engine, write=False) as session:
        view = get_review(session, pair)
    page = console.get(f"/console/matches/{pair}")
    assert page.status_code == 200
    assert f"model version {view.model_version}" in page.text
    assert f"{view.match_weight:+.2f}" in page.text
    for item in view.fields:
        assert f'<th scope="row">{item["field"].replace("_", " ")}</th>' in page.text
    last = next(f for f in view.fields if f["field"] == "last_name")
    assert "morrison" in page.text
    assert "morrisson" in page.text
    assert last["level"] in page.text
    # A field for the match is drawn green, one against red, and each says so in words too.
    assert 'class="bar for w-' in page.text
    assert 'class="bar against w-' in page.text
    assert 'value="accept"' in page.text
    assert 'value="reject"' in page.text
    with unit_of_work(engine, write=False) as session:
        read = [e for e in entries(session, limit=500) if e.detail.get("view") == "console_match"]
    assert {int(e.subject_id) for e in read} == {katherine, kathryn}
    assert console.get("/console/matches/999999").status_code == 404


def test_accepting_merges_them_through_the_identity_graph(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings, queued: None
) -> None:
    token = sign_in("supervisor")
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    kathryn = _profile(engine, KATHRYN.record_key, "mortgage")
    pair = _pair_of(engine, katherine, kathryn)
    # Without the session's token nothing is decided.
    forged = console.post(f"/console/matches/{pair}/decision", data={"decision": "accept"})
    assert forged.status_code == 403
    assert "This form was not accepted" in forged.text
    assert console.post(f"/console/matches/{pair}/decision", data={"csrf_token": token}).status_code == 400
    with unit_of_work(engine, write=False) as session:
        assert get_review(session, pair).status == "pending"

    done = console.post(
        f"/console/matches/{pair}/decision",
        data={"csrf_token": token, "decision": "accept", "note": "same birth date; she moved"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/console/matches/{pair}?decided=1"
    waiting = console.get(done.headers["location"])
    assert "Accepted." in waiting.text
    assert "on its way" in waiting.text
    drain(engine, settings)
    assert _profile(engine, KATHERINE.record_key, "checking") == _profile(engine, KATHRYN.record_key, "mortgage")
    after = console.get(done.headers["location"])
    root = _profile(engine, KATHERINE.record_key, "checking")
    assert f'They are one customer now: <a href="/console/customers/{root}">' in after.text
    assert "same birth date; she moved" in after.text
    assert 'value="accept"' not in after.text  # decided: no more forms
    with unit_of_work(engine, write=False) as session:
        view = get_review(session, pair)
        changes = [e for e in entries(session, limit=500) if e.action == "change" and e.detail.get("match") == pair]
    assert (view.status, view.decided_by) == ("accepted", "supervisor")
    assert {int(e.subject_id) for e in changes} == {katherine, kathryn}
    again = console.post(f"/console/matches/{pair}/decision", data={"csrf_token": token, "decision": "reject"})
    assert again.status_code == 409
    assert "already decided" in again.text


def test_rejecting_keeps_them_apart_as_a_label(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings, queued: None
) -> None:
    token = sign_in("supervisor")
    peter, paul = _profile(engine, PETER.record_key, "checking"), _profile(engine, PAUL.record_key, "cards")
    pair = _pair_of(engine, peter, paul)
    hostile = "<script>alert('note')</script>"
    done = console.post(
        f"/console/matches/{pair}/decision", data={"csrf_token": token, "decision": "reject", "note": hostile}
    )
    assert done.status_code == 200
    assert "Rejected." in done.text
    assert "They stay two customers" in done.text
    assert hostile not in done.text
    assert "&lt;script&gt;" in done.text
    drain(engine, settings)
    assert _profile(engine, PETER.record_key, "checking") != _profile(engine, PAUL.record_key, "cards")
    listed = console.get("/console/matches?status=rejected")
    assert f'href="/console/matches/{pair}"' in listed.text
    assert f'href="/console/matches/{pair}"' not in console.get("/console/matches").text


def test_hostile_names_are_escaped(console: TestClient, sign_in: SignIn, engine: Engine, queued: None) -> None:
    token = sign_in("supervisor")
    peter, paul = _profile(engine, PETER.record_key, "checking"), _profile(engine, PAUL.record_key, "cards")
    hostile = '<img src=x onerror="alert(1)">Peter'
    corrected = console.post(
        f"/console/customers/{peter}/corrections", data={"csrf_token": token, "trait.first_name": hostile}
    )
    assert corrected.status_code == 200, corrected.text[-1500:]
    pair = _pair_of(engine, peter, paul)
    for path in ("/console/matches", f"/console/matches/{pair}"):
        page = console.get(path)
        assert page.status_code == 200
        assert "<img src=x" not in page.text
        assert "&lt;img src=x" in page.text


def test_empty_states_say_what_to_do(
    console: TestClient, sign_in: SignIn, settings: Settings, trained_model: TrainedModel
) -> None:
    sign_in("supervisor")
    untrained = console.get("/console/matches")
    assert untrained.status_code == 200
    assert "No matching model is trained yet" in untrained.text
    assert "seamline match train" in untrained.text
    matching_context(settings, trained_model)  # installs the model file the app reads
    trained = console.get("/console/matches")
    assert "Nothing to review" in trained.text
    assert "seamline match run" in trained.text
