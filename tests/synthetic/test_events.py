"""Synthetic Segment traffic: valid messages, true labels kept outside them, and every hard case present."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC, datetime
from itertools import islice

import orjson
import pytest

from seamline.ingestion.wire import Limits, parse_batch
from seamline.synthetic.events import (
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONES,
    PLACEHOLDER_USER_IDS,
    PLACEHOLDERS,
    SyntheticEvent,
    generate_events,
)
from seamline.synthetic.people import Person, generate_people

START = datetime(2024, 3, 1, tzinfo=UTC)
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TRUTH_KEY = re.compile(r"\b[ph]-\d{6}\b")


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(400, seed=3)


@pytest.fixture(scope="module")
def events(people: list[Person]) -> list[SyntheticEvent]:
    return list(generate_events(people, 20_000, seed=3, start=START))


@pytest.fixture(scope="module")
def by_key(people: list[Person]) -> dict[str, Person]:
    return {p.person_key: p for p in people}


def _identifies(events: list[SyntheticEvent]) -> list[SyntheticEvent]:
    return [e for e in events if e.message["type"] == "identify"]


def test_the_same_seed_gives_the_same_messages(people: list[Person]) -> None:
    def run(seed: int) -> list[tuple[bytes, str, str]]:
        return [(orjson.dumps(e.message), e.person_key, e.source) for e in generate_events(people, 2_000, seed, START)]

    assert run(9) == run(9)
    assert run(9) != run(10)


def test_exactly_n_events_in_timestamp_order(events: list[SyntheticEvent]) -> None:
    assert len(events) == 20_000
    stamps = [e.message["timestamp"] for e in events]
    assert all(ISO_Z.match(stamp) for stamp in stamps)
    assert stamps == sorted(stamps)
    assert stamps[0] >= "2024-03-01T00:00:00.000Z"
    assert stamps[-1] < "2024-04-02T00:00:00.000Z"
    assert list(generate_events([], 0, 1, START)) == []


def test_every_message_is_accepted_by_the_tracking_api(events: list[SyntheticEvent]) -> None:
    messages = [e.message for e in events]
    accepted = 0
    for first in range(0, len(messages), 500):
        accepted += len(parse_batch({"batch": messages[first : first + 500]}, START, Limits()))
    assert accepted == len(messages)


def test_every_message_has_its_type_s_required_fields(events: list[SyntheticEvent]) -> None:
    required = {"track": "event", "alias": "previousId", "group": "groupId"}
    for event in events:
        message = event.message
        assert message["type"] in {"identify", "track", "page", "screen", "group", "alias"}
        assert message.get("userId") or message.get("anonymousId")
        field = required.get(message["type"])
        assert field is None or message.get(field)
        assert isinstance(message.get("context"), dict)
    message_ids = [e.message["messageId"] for e in events]
    assert len(set(message_ids)) == len(message_ids)
    assert {e.message["type"] for e in events} == {"identify", "track", "page", "screen", "group", "alias"}


def test_truth_never_leaks_into_messages(events: list[SyntheticEvent], people: list[Person]) -> None:
    body = orjson.dumps([e.message for e in events]).decode()
    assert not TRUTH_KEY.search(body)
    assert all("person_key" not in e.message and "household_key" not in e.message for e in events)
    assert {e.person_key for e in events} <= {p.person_key for p in people}


def test_user_ids_are_the_person_s_own_unless_placeholders(
    events: list[SyntheticEvent], by_key: dict[str, Person]
) -> None:
    for event in events:
        user_id = event.message.get("userId")
        if user_id is not None and user_id not in PLACEHOLDERS:
            assert user_id == by_key[event.person_key].user_id


def test_device_traffic_carries_the_device_s_anonymous_id(
    events: list[SyntheticEvent], by_key: dict[str, Person]
) -> None:
    apps = [e for e in events if e.source in {"web", "ios-app", "android-app"}]
    assert apps
    for event in apps:
        devices = {d.anonymous_id: d for d in by_key[event.person_key].devices}
        device = devices[event.message.get("anonymousId") or event.message["previousId"]]
        if event.source != "web":
            assert event.message["context"]["device"]["id"] == device.device_id
        else:
            assert "device" not in event.message["context"]


def test_shared_tablet_carries_two_people_on_one_anonymous_id(events: list[SyntheticEvent]) -> None:
    logins: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for event in _identifies(events):
        if event.scenario == "shared-tablet" and event.message["userId"] not in PLACEHOLDERS:
            logins[event.message["anonymousId"]].add((event.message["userId"], event.person_key))
    shared = [pairs for pairs in logins.values() if len(pairs) > 1]
    assert shared, "a family tablet where two members log in"
    for pairs in shared:
        assert len({user for user, _ in pairs}) == len({person for _, person in pairs}) == 2


def test_call_center_identifies_by_a_locally_written_phone_only(
    events: list[SyntheticEvent], by_key: dict[str, Person]
) -> None:
    calls = [e for e in _identifies(events) if e.source == "call-center"]
    assert calls
    local_spellings = 0
    for event in calls:
        message = event.message
        assert set(message["traits"]) == {"phone"}
        assert "userId" not in message
        assert message["anonymousId"].startswith("call-")
        phone = message["traits"]["phone"]
        if phone in PLACEHOLDER_PHONES:
            continue
        true_phone = by_key[event.person_key].phone
        assert true_phone is not None
        digits = re.sub(r"\D", "", phone)
        assert true_phone.endswith(digits.lstrip("0")[-9:])
        local_spellings += phone != true_phone
    assert local_spellings > len(calls) // 2
    spelt = {e.message["traits"]["phone"] for e in calls}
    assert any(re.match(r"^\(\d{3}\) \d{3}-\d{4}$", p) for p in spelt)


def test_crm_records_carry_email_and_an_external_id(events: list[SyntheticEvent]) -> None:
    crm = [e for e in events if e.source == "crm"]
    assert crm
    for event in crm:
        message = event.message
        assert message["type"] == "identify"
        assert message["traits"]["email"]
        (external,) = message["context"]["externalIds"]
        assert external == {"id": message["anonymousId"], "type": "crm_id", "collection": "users", "encoding": "none"}


def test_product_events_name_the_person_s_own_holdings(events: list[SyntheticEvent], by_key: dict[str, Person]) -> None:
    products = [e for e in events if e.scenario == "product"]
    names = Counter(e.message.get("event") for e in products if e.message["type"] == "track")
    assert {"Account Opened", "Order Completed"} <= set(names)
    assert "Card Activated" in names or "Card Payment Made" in names
    for event in products:
        held = {h.external_id for h in by_key[event.person_key].holdings}
        message = event.message
        if message["type"] == "group":
            assert message["groupId"] in held
        else:
            properties = message["properties"]
            assert (properties.get("account_id") or properties.get("order_id")) in held


def test_values_a_household_shares_reach_the_stream(
    events: list[SyntheticEvent], people: list[Person], by_key: dict[str, Person]
) -> None:
    groups: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.message["type"] == "group":
            groups[event.message["groupId"]].add(event.person_key)
    assert any(len(keys) > 1 for keys in groups.values()), "a joint account: two people in one group"
    phone_holders: dict[str, set[str]] = defaultdict(set)
    for person in people:
        if person.phone is not None:
            phone_holders[person.phone].add(person.person_key)
    called = {by_key[e.person_key].phone for e in events if e.source == "call-center"}
    assert any(len(phone_holders[phone]) > 1 for phone in called if phone), "a call from a shared landline"


def test_placeholders_occur_at_the_default_rate(events: list[SyntheticEvent]) -> None:
    identifies = _identifies(events)
    noisy = [e for e in identifies if _placeholder_fields(e)]
    assert 0.002 < len(noisy) / len(identifies) < 0.03
    assert len({e.source for e in noisy}) > 1


def test_placeholders_sit_on_otherwise_true_messages(people: list[Person], by_key: dict[str, Person]) -> None:
    noisy = list(generate_events(people, 10_000, 4, START, placeholder_rate=0.3))
    with_placeholder = [e for e in noisy if _placeholder_fields(e)]
    fields = Counter(field for e in with_placeholder for field in _placeholder_fields(e))
    assert set(fields) == {"email", "phone", "userId"}
    for event in with_placeholder:
        message, person = event.message, by_key[event.person_key]
        assert len(_placeholder_fields(event)) == 1, "one bad value per message; the rest is true"
        assert message.get("anonymousId")
        if "userId" in message and message["userId"] not in PLACEHOLDERS:
            assert message["userId"] == person.user_id
        email = message.get("traits", {}).get("email")
        if email is not None and email not in PLACEHOLDERS:
            assert email.strip().lower() in person.emails
    # One placeholder lands on many people: it must never join them.
    for field in ("email", "phone", "userId"):
        assert len({e.person_key for e in with_placeholder if field in _placeholder_fields(e)}) > 5


def _placeholder_fields(event: SyntheticEvent) -> list[str]:
    message = event.message
    traits = message.get("traits", {})
    found = []
    if traits.get("email") in PLACEHOLDER_EMAILS:
        found.append("email")
    if traits.get("phone") in PLACEHOLDER_PHONES:
        found.append("phone")
    if message.get("userId") in PLACEHOLDER_USER_IDS and message["type"] in {"identify", "track", "group"}:
        found.append("userId")
    return found


def test_some_people_log_in_on_more_than_one_device(events: list[SyntheticEvent]) -> None:
    devices: dict[str, set[str]] = defaultdict(set)
    for event in _identifies(events):
        if event.source in {"web", "ios-app", "android-app"} and event.scenario != "shared-tablet":
            devices[event.person_key].add(event.message["anonymousId"])
    assert sum(len(anonymous_ids) > 1 for anonymous_ids in devices.values()) > 10


def test_some_emails_arrive_in_odd_case_and_spacing(events: list[SyntheticEvent], by_key: dict[str, Person]) -> None:
    sent = [(e, e.message["traits"]["email"]) for e in _identifies(events) if "email" in e.message["traits"]]
    messy = [email for _, email in sent if email != email.strip().lower()]
    assert messy
    assert any(email != email.strip() for email in messy)
    for event, email in sent:
        if email not in PLACEHOLDERS:
            assert email.strip().lower() in by_key[event.person_key].emails


def test_knobs_switch_the_hard_cases_off(people: list[Person]) -> None:
    quiet = list(generate_events(people, 5_000, 3, START, placeholder_rate=0.0, shared_tablet_rate=0.0))
    body = orjson.dumps([e.message for e in quiet]).decode()
    assert not any(f'"{value}"' in body for value in PLACEHOLDERS)
    assert all(e.scenario != "shared-tablet" for e in quiet)
    anonymous = list(generate_events(people, 5_000, 3, START, anonymous_share=1.0, crm_share=0, product_share=0))
    assert not any(
        "userId" in e.message
        for e in anonymous
        if e.source in {"web", "ios-app", "android-app"} and e.scenario != "shared-tablet"
    )


def test_the_stream_is_lazy(people: list[Person]) -> None:
    first = list(islice(generate_events(people, 10_000_000, 1, START), 10))
    assert len(first) == 10


@pytest.mark.parametrize(
    "knobs",
    [{"placeholder_rate": 1.5}, {"anonymous_share": -0.1}, {"crm_share": 0.6, "product_share": 0.6}, {"days": 0}],
)
def test_bad_knobs_are_refused_before_any_event(people: list[Person], knobs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        generate_events(people, 10, 1, START, **knobs)


def test_events_need_people() -> None:
    with pytest.raises(ValueError, match="person"):
        generate_events([], 1, 1, START)


def test_a_naive_start_is_taken_as_utc(people: list[Person]) -> None:
    naive = [e.message for e in generate_events(people, 50, 1, datetime(2024, 3, 1))]
    aware = [e.message for e in generate_events(people, 50, 1, START)]
    assert naive == aware
