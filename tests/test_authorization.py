"""The authorization matrix: every route of the app, who may use it, and proof that nothing leaks.

A route added without an entry here fails `test_every_route_has_an_entry`: deciding who may use it is part of
adding it.
"""

from __future__ import annotations

import re

from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from tests.console.conftest import log_in
from tests.console.people import wrong_merge
from tests.support.builders import make_user

ROLES = ("agent", "supervisor", "analyst", "admin", "communications")
ASSESSORS = frozenset({"analyst", "communications"})  # the communications assessment: aggregates, no person
REPORTERS = frozenset({"supervisor", "analyst", "communications"})  # the reports area: aggregates, no person
ANY_ROLE = frozenset(ROLES)
PEOPLE = frozenset({"agent", "supervisor"})
# Who needs no session or key at all, and why that is safe.
PUBLIC = "public"  # no personal data: health, docs, the login form, stylesheets, the redirect to the console
SERVER_KEY = "server key"  # the profile, consent and privacy APIs: Bearer sk_… with a scope
WRITE_KEY = "write key"  # the tracking API: a source's write key
SIGNED_LINK = "signed link"  # the customer's own preference page: the link is the credential
LOOPBACK = "loopback or token"  # /metrics
TRACKED_LINK = "tracked link"  # an email's redirect and open pixel: the signature is the credential; forged = 404
RESUME_TOKEN = "resume token"  # a customer continuing one journey: the token is the credential (X-Resume-Token)
PROVIDER_SIGNED = "provider signature"  # SMS/push delivery callbacks: the provider's signature is the credential

MATRIX: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): LOOPBACK,
    ("MOUNT", "/static/swagger"): PUBLIC,
    ("MOUNT", "/console/static"): PUBLIC,
    ("GET", "/v1/projects/{write_key}/settings"): PUBLIC,  # analytics.js settings: no personal data
    ("GET", "/preferences/{token}"): SIGNED_LINK,
    ("POST", "/preferences/{token}"): SIGNED_LINK,
    ("POST", "/preferences/{token}/unsubscribe"): SIGNED_LINK,  # RFC 8058 one-click, from a marketing email
    ("GET", "/survey/{token}"): SIGNED_LINK,  # a survey invitation's page: the link is the credential
    ("POST", "/survey/{token}"): SIGNED_LINK,
    ("GET", "/t/c/{token}"): TRACKED_LINK,
    ("GET", "/t/o/{token}"): TRACKED_LINK,
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("GET", "/console"): ANY_ROLE,
    ("POST", "/console/logout"): ANY_ROLE,
    ("GET", "/console/journeys"): frozenset({"supervisor", "analyst"}),  # counts; instances only with customers:view
    ("POST", "/console/customers/{profile_id}/journeys/{instance_id}/steps/{step}"): PEOPLE,
    ("POST", "/console/customers/{profile_id}/journeys/{instance_id}/case"): PEOPLE,
    ("GET", "/v1/journeys/resume"): RESUME_TOKEN,
    ("PUT", "/v1/journeys/resume/steps/{step}/draft"): RESUME_TOKEN,
    ("POST", "/v1/journeys/resume/steps/{step}/complete"): RESUME_TOKEN,
    ("GET", "/console/reports/funnels"): REPORTERS,  # aggregates
    ("GET", "/console/reports/paths"): REPORTERS,
    # The people behind a funnel's number: reports and customers both (each one shown is audited).
    ("GET", "/console/reports/funnels/people"): frozenset({"supervisor"}),
    ("GET", "/console/reports"): REPORTERS,
    ("GET", "/console/reports/overview"): REPORTERS,  # its channel-effectiveness tile only for ASSESSORS
    ("GET", "/console/reports/export/{report}/{tile}/{table}"): REPORTERS,  # a report the role may open, else 404
    ("POST", "/console/reports/saved"): REPORTERS,
    ("GET", "/console/reports/saved/{saved_id}"): REPORTERS,  # own or shared, of a report the role may open
    ("POST", "/console/reports/saved/{saved_id}/delete"): REPORTERS,  # its owner's
    ("POST", "/console/reports/saved/{saved_id}/schedules"): REPORTERS,  # its owner's
    ("POST", "/console/reports/schedules/{schedule_id}/delete"): REPORTERS,  # its owner's
    ("GET", "/console/communications"): ASSESSORS,
    ("GET", "/console/communications/flow"): ASSESSORS,
    ("GET", "/console/communications/effectiveness"): ASSESSORS,
    ("GET", "/console/communications/bottlenecks"): ASSESSORS,
    ("GET", "/console/communications/redundancy"): ASSESSORS,
    ("GET", "/console/communications/export/{report}"): ASSESSORS,
    # Only the roles whose pages draw charts load it: the assessment's and the reports (communication errors').
    ("GET", "/console/charts/plotly.min.js"): frozenset({"supervisor", "analyst", "communications"}),
    ("GET", "/console/find"): PEOPLE,
    ("GET", "/console/customers/{profile_id}"): PEOPLE,
    ("POST", "/console/customers/{profile_id}/corrections"): PEOPLE,
    ("POST", "/console/customers/{profile_id}/preferences"): PEOPLE,
    ("POST", "/console/customers/{profile_id}/actions/{action}/outcome"): PEOPLE,
    ("POST", "/console/merges/{merge_id}/unmerge"): frozenset({"supervisor"}),
    ("GET", "/console/matches"): frozenset({"supervisor"}),
    ("GET", "/console/matches/findings"): frozenset({"supervisor"}),
    ("GET", "/console/matches/{match_id}"): frozenset({"supervisor"}),
    ("POST", "/console/matches/{match_id}/decision"): frozenset({"supervisor"}),
    ("GET", "/console/cases"): PEOPLE,
    ("GET", "/console/cases/{case_id}"): PEOPLE,
    ("POST", "/console/customers/{profile_id}/cases"): PEOPLE,
    ("POST", "/console/cases/{case_id}/entries"): PEOPLE,
    ("POST", "/console/cases/{case_id}/handoff"): PEOPLE,
    ("POST", "/console/cases/{case_id}/status"): PEOPLE,
    ("POST", "/console/cases/{case_id}/priority"): PEOPLE,
    ("POST", "/console/cases/{case_id}/pick-up"): PEOPLE,  # an escalated case: supervisors only (tests/console)
    ("POST", "/console/cases/{case_id}/escalate"): PEOPLE,
    ("POST", "/console/cases/{case_id}/assign"): frozenset({"supervisor"}),
    ("GET", "/console/tasks"): PEOPLE,
    ("POST", "/console/tasks/{task_id}/pick-up"): PEOPLE,
    ("POST", "/console/tasks/{task_id}/complete"): PEOPLE,
    ("GET", "/console/users"): frozenset({"admin"}),
    ("POST", "/console/users"): frozenset({"admin"}),
    ("POST", "/console/users/{username}/disable"): frozenset({"admin"}),
    ("POST", "/console/users/{username}/enable"): frozenset({"admin"}),
    ("POST", "/console/users/{username}/password"): frozenset({"admin"}),
    ("POST", "/console/users/{username}/unlock"): frozenset({"admin"}),
    ("GET", "/console/outbox"): frozenset({"admin"}),
    ("POST", "/console/outbox/{entry_id}/replay"): frozenset({"admin"}),
    ("POST", "/console/outbox/{entry_id}/discard"): frozenset({"admin"}),
    ("POST", "/console/destinations/{name}/{action}"): frozenset({"admin"}),
    ("GET", "/console/errors"): PEOPLE,
    ("GET", "/console/errors/new"): PEOPLE,
    ("POST", "/console/errors"): PEOPLE,
    ("GET", "/console/errors/{error_id}"): PEOPLE,
    ("POST", "/console/errors/{error_id}/{action}"): PEOPLE,
    ("GET", "/console/problems/{problem_id}"): PEOPLE,
    ("POST", "/console/problems/{problem_id}/{action}"): frozenset({"supervisor"}),
    ("GET", "/console/error-reports"): frozenset({"supervisor", "analyst", "communications"}),  # aggregates
    ("GET", "/console/reports/feedback"): frozenset({"supervisor", "analyst", "communications"}),  # rollups: aggregates
    ("POST", "/v1/providers/twilio/status"): PROVIDER_SIGNED,
    ("POST", "/v1/providers/webhook/{channel}"): PROVIDER_SIGNED,
}
for _path in ("identify", "track", "page", "screen", "group", "alias", "batch", "i", "t", "p", "s", "g", "a", "b"):
    MATRIX[("POST", f"/v1/{_path}")] = WRITE_KEY
    MATRIX[("OPTIONS", f"/v1/{_path}")] = PUBLIC  # CORS preflight
MATRIX[("OPTIONS", "/v1/projects/{write_key}/settings")] = PUBLIC
for _method, _path in (
    ("GET", "/v1/profiles/search"),
    ("GET", "/v1/profiles/lookup"),
    ("GET", "/v1/profiles/{profile_id}"),
    ("GET", "/v1/profiles/{profile_id}/traits"),
    ("POST", "/v1/profiles/{profile_id}/traits"),
    ("POST", "/v1/profiles/{profile_id}/identifiers"),
    ("GET", "/v1/profiles/{profile_id}/holdings"),
    ("GET", "/v1/profiles/{profile_id}/timeline"),
    ("GET", "/v1/profiles/{profile_id}/merges"),
    ("POST", "/v1/merges/{merge_id}/unmerge"),
    ("GET", "/v1/profiles/{profile_id}/consent"),
    ("POST", "/v1/profiles/{profile_id}/consent"),
    ("GET", "/v1/profiles/{profile_id}/may-contact"),
    ("GET", "/v1/profiles/{profile_id}/delivery-preference"),
    ("POST", "/v1/privacy/requests"),
    ("GET", "/v1/privacy/requests"),
    ("GET", "/v1/privacy/requests/{request_id}"),
    ("POST", "/v1/privacy/requests/{request_id}/complete"),
    ("POST", "/v1/profiles/{profile_id}/preference-link"),
    ("POST", "/v1/cases"),
    ("GET", "/v1/cases"),
    ("POST", "/v1/cases/inbound"),
    ("GET", "/v1/cases/{case_id}"),
    ("POST", "/v1/cases/{case_id}/entries"),
    ("PUT", "/v1/cases/{case_id}/handoff"),
    ("GET", "/v1/cases/{case_id}/handoff/versions"),
    ("POST", "/v1/cases/{case_id}/status"),
    ("POST", "/v1/cases/{case_id}/resolve"),
    ("POST", "/v1/cases/{case_id}/close"),
    ("POST", "/v1/cases/{case_id}/reopen"),
    ("POST", "/v1/cases/{case_id}/priority"),
    ("POST", "/v1/cases/{case_id}/assign"),
    ("POST", "/v1/cases/{case_id}/pick-up"),
    ("POST", "/v1/cases/{case_id}/escalate"),
    ("POST", "/v1/match"),
    ("POST", "/v1/profiles/{profile_id}/communications"),
    ("GET", "/v1/profiles/{profile_id}/communications"),
    ("GET", "/v1/communications/{communication_id}"),
    ("POST", "/v1/destinations"),
    ("GET", "/v1/destinations"),
    ("POST", "/v1/destinations/{name}/pause"),
    ("POST", "/v1/destinations/{name}/resume"),
    ("POST", "/v1/destinations/{name}/replay"),
    ("GET", "/v1/inbox"),
    ("POST", "/v1/inbox/{communication_id}/read"),
    ("POST", "/v1/inbox/{communication_id}/archive"),
    ("POST", "/v1/destinations/{name}/audiences"),
    ("POST", "/v1/decisions"),
    ("POST", "/v1/decisions/outcomes"),
    ("GET", "/v1/decisions/model"),
    ("GET", "/v1/matching/reviews"),
    ("GET", "/v1/matching/export"),
    ("GET", "/v1/matching/findings"),
    ("GET", "/v1/matching/reviews/{review_id}"),
    ("POST", "/v1/matching/reviews/{review_id}/decision"),
    ("POST", "/v1/journeys"),
    ("GET", "/v1/journeys"),
    ("GET", "/v1/journeys/{instance_id}"),
    ("GET", "/v1/journeys/{instance_id}/steps/{step}/prefill"),
    ("PUT", "/v1/journeys/{instance_id}/steps/{step}/draft"),
    ("POST", "/v1/journeys/{instance_id}/steps/{step}/complete"),
    ("POST", "/v1/journeys/{instance_id}/resume-tokens"),
    ("DELETE", "/v1/journeys/{instance_id}/resume-tokens"),
    ("POST", "/v1/journeys/{instance_id}/resume-link"),
    ("POST", "/v1/journeys/{instance_id}/handoff"),
    ("POST", "/v1/tasks"),
    ("GET", "/v1/tasks"),
    ("GET", "/v1/tasks/{task_id}"),
    ("GET", "/v1/profiles/{profile_id}/tasks"),
    ("POST", "/v1/tasks/{task_id}/pick-up"),
    ("POST", "/v1/tasks/{task_id}/complete"),
    ("POST", "/v1/communication-errors"),
    ("POST", "/v1/communication-errors/batch"),
    ("GET", "/v1/communication-errors"),
    ("GET", "/v1/communication-errors/{error_id}"),
    ("POST", "/v1/communication-errors/{error_id}/acknowledge"),
    ("POST", "/v1/communication-errors/{error_id}/resolve"),
    ("POST", "/v1/communication-errors/{error_id}/regulatory"),
    ("POST", "/v1/communication-errors/{error_id}/fix"),
    ("POST", "/v1/communication-errors/{error_id}/resend"),
    ("GET", "/v1/communication-problems/{problem_id}"),
    ("GET", "/v1/communication-problems/{problem_id}/blast-radius"),
    ("POST", "/v1/communication-problems/{problem_id}/close"),
    ("POST", "/v1/communication-problems/{problem_id}/link"),
    ("POST", "/v1/communication-problems/{problem_id}/split"),
    ("POST", "/v1/communication-problems/{problem_id}/notify"),
    ("GET", "/v1/assessment/inventory"),
    ("GET", "/v1/assessment/flow-map"),
    ("GET", "/v1/assessment/effectiveness"),
    ("GET", "/v1/assessment/bottlenecks"),
    ("GET", "/v1/assessment/redundancy"),
    ("GET", "/v1/analytics/funnels"),
    ("GET", "/v1/analytics/funnels/people"),
    ("GET", "/v1/analytics/paths"),
    ("GET", "/v1/analytics/repeated-identification"),
    ("GET", "/v1/analytics/cross-channel"),
    ("GET", "/v1/reports/{report}"),
    ("GET", "/v1/reports/{report}/{tile}/{table}"),
    ("POST", "/v1/feedback/invitations"),
    ("POST", "/v1/feedback/answers"),
    ("GET", "/v1/profiles/{profile_id}/feedback"),
    ("GET", "/v1/feedback/rollups"),
    ("GET", "/v1/feedback/trend"),
    ("GET", "/v1/feedback/questions"),
):
    MATRIX[(_method, _path)] = SERVER_KEY


def app_routes(settings: Settings) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(create_app(settings).routes):
        methods = getattr(context.original_route, "methods", None)
        if methods is None:
            found.add(("MOUNT", str(context.path)))
        else:
            found.update((m, str(context.path)) for m in methods if m != "HEAD")
    return found


def test_every_route_has_an_entry(settings: Settings) -> None:
    routes = app_routes(settings)
    assert routes - MATRIX.keys() == set(), "decide who may use these routes and add them to MATRIX"
    assert MATRIX.keys() - routes == set(), "these entries name routes that no longer exist"


def _url(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "1"), path)


def _console_routes() -> list[tuple[str, str, frozenset[str]]]:
    return sorted(
        (m, p, who) for (m, p), who in MATRIX.items() if isinstance(who, frozenset) and p != "/console/logout"
    )


def test_console_pages_answer_each_role_as_the_matrix_says(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        survivor, _merged = wrong_merge(client, engine, settings)
        ids = {"profile_id": str(survivor), "merge_id": "1", "username": "nobody-here"}
        for role in ROLES:
            make_user(engine, role, role)
        # Anonymous: every console page sends the browser to the login form, and shows nothing.
        client.cookies.clear()
        for method, path, _who in _console_routes():
            response = client.request(method, _url(path, ids), follow_redirects=False)
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/console/login?next="), (method, path)
        for role in ROLES:
            token = log_in(client, role)
            for method, path, who in _console_routes():
                # Posts carry the session's token and a form that stops right after the permission check (an
                # empty reason, an unknown user…), so the matrix changes nothing it tests.
                data = {"csrf_token": token} if method == "POST" else None
                response = client.request(method, _url(path, ids), data=data, follow_redirects=False)
                if role in who:
                    assert response.status_code in (200, 400, 404), (role, method, path, response.status_code)
                else:
                    assert response.status_code == 403, (role, method, path, response.status_code)
                    assert "Not allowed for your role" in response.text
                    assert "Ada" not in response.text


PERSONAL = ("augusta king", "u-ada", "bob-phone", "bob builder")  # the people wrong_merge stores


def test_no_api_route_answers_personal_data_without_credentials(settings: Settings, engine: Engine) -> None:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        survivor, _merged = wrong_merge(client, engine, settings)
        ids = {
            "profile_id": str(survivor),
            "merge_id": "1",
            "request_id": "1",
            "token": "not-a-link",
            "write_key": "wk_not_a_key",
            "channel": "sms",
        }
        for (method, path), who in MATRIX.items():
            if method == "MOUNT" or isinstance(who, frozenset) or path.startswith("/console"):
                continue
            url = _url(path, ids) + ("?identifier=user_id:u-ada" if path.endswith("/lookup") else "")
            response = client.request(method, url, json={} if method == "POST" else None, follow_redirects=False)
            assert response.status_code < 500, (method, path)
            if who in (SERVER_KEY, WRITE_KEY, SIGNED_LINK, RESUME_TOKEN, PROVIDER_SIGNED):
                assert response.status_code in (401, 403), (method, path, response.status_code)
            if who == TRACKED_LINK:  # a redirect never leads anywhere on a token we did not sign
                assert response.status_code == 404, (method, path, response.status_code)
            body = response.text.lower()
            leaked = [p for p in PERSONAL if p in body]
            assert not leaked, (method, path, leaked)
