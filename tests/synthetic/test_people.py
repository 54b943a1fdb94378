"""Synthetic people: reproducible, and every value unique to one person unless a household shares it."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from seamline.synthetic.names import NICKNAMES
from seamline.synthetic.people import Person, generate_people

E164 = re.compile(r"^\+(1\d{10}|44\d{10})$")


@pytest.fixture(scope="module")
def people() -> list[Person]:
    return generate_people(2_000, seed=11)


def _owners(people: list[Person], values: dict[str, list[str]]) -> dict[str, set[str]]:
    """value -> the households of the people who hold it."""
    by_key = {p.person_key: p.household_key for p in people}
    return {value: {by_key[key] for key in keys} for value, keys in values.items()}


def test_the_same_seed_gives_the_same_people() -> None:
    assert generate_people(300, seed=5) == generate_people(300, seed=5)
    assert generate_people(300, seed=5) != generate_people(300, seed=6)


def test_exactly_n_people_with_unique_truth_keys(people: list[Person]) -> None:
    assert len(people) == 2_000
    assert len({p.person_key for p in people}) == 2_000
    assert generate_people(0, seed=1) == []
    with pytest.raises(ValueError, match="negative"):
        generate_people(-1, seed=1)


def test_emails_and_user_ids_belong_to_one_person(people: list[Person]) -> None:
    emails = [e for p in people for e in p.emails]
    user_ids = [p.user_id for p in people if p.user_id is not None]
    assert len(emails) == len(set(emails))
    assert len(user_ids) == len(set(user_ids))
    assert all(p.emails for p in people if p.is_registered)
    assert any(not p.emails for p in people)
    assert all(1 <= len(p.emails) <= 2 for p in people if p.emails)


def test_registered_share_is_near_the_knob(people: list[Person]) -> None:
    share = sum(p.is_registered for p in people) / len(people)
    assert 0.65 < share < 0.75
    assert not any(p.is_registered for p in generate_people(200, seed=1, registered_share=0.0))


def test_phones_are_e164_and_shared_only_inside_a_household(people: list[Person]) -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for p in people:
        if p.phone is not None:
            assert E164.match(p.phone), p.phone
            holders[p.phone].append(p.person_key)
    assert any(p.phone is None for p in people)
    owners = _owners(people, holders)
    assert all(len(households) == 1 for households in owners.values())
    assert any(len(keys) > 1 for keys in holders.values()), "some household shares a landline"


def test_households_share_one_address(people: list[Person]) -> None:
    addresses: dict[str, set[object]] = defaultdict(set)
    for p in people:
        addresses[p.household_key].add(p.address)
    assert all(len(found) == 1 for found in addresses.values())
    assert any(sum(p.household_key == key for p in people) > 1 for key in list(addresses)[:50])
    assert {p.address.country for p in people} == {"US", "GB"}


def test_devices_are_own_except_the_family_tablet(people: list[Person]) -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for p in people:
        own = [d for d in p.devices if not d.is_shared]
        assert 1 <= len(own) <= 3
        for device in p.devices:
            holders[device.anonymous_id].append(p.person_key)
    shared = {d.anonymous_id: holders[d.anonymous_id] for p in people for d in p.devices if d.is_shared}
    assert shared, "some household has a family tablet"
    assert all(len(keys) == 2 for keys in shared.values())
    assert all(len(keys) == 1 for anon, keys in holders.items() if anon not in shared)
    assert all(len(households) == 1 for households in _owners(people, shared).values())
    by_key = {p.person_key: p for p in people}
    assert all(by_key[key].is_registered for keys in shared.values() for key in keys)


def test_holdings_are_own_except_joint_accounts(people: list[Person]) -> None:
    holders: dict[str, list[str]] = defaultdict(list)
    for p in people:
        for holding in p.holdings:
            holders[holding.external_id].append(p.person_key)
            assert holding.source_system in {"core-banking", "cards-system", "mortgage-system", "web-shop"}
            assert holding.opened_on > p.date_of_birth
    joint = {ext: keys for ext, keys in holders.items() if len(keys) > 1}
    assert joint, "some partners hold a joint account"
    assert all(ext.startswith(("CHK-", "MTG-")) for ext in joint)
    assert all(len(households) == 1 for households in _owners(people, joint).values())
    kinds = {h.kind for p in people for h in p.holdings}
    assert kinds == {"checking_account", "credit_card", "mortgage", "order"}


def test_nicknames_come_from_the_table(people: list[Person]) -> None:
    assert all(p.nickname == NICKNAMES.get(p.first_name) for p in people)
    assert any(p.nickname is not None for p in people)
    assert NICKNAMES["Robert"] == "Bob"
