"""Synthetic silo records: reproducible, every person somewhere, realistic errors, truth kept beside the fields."""

from __future__ import annotations

from collections import Counter

from seamline.synthetic.names import NICKNAMES
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import SILO_SYSTEMS, generate_silo_records, truth_by_record


def test_silo_records_are_reproducible_and_cover_everyone() -> None:
    people = generate_people(800, seed=3)
    records = generate_silo_records(people, seed=4)
    assert records == generate_silo_records(people, seed=4)
    assert {r.person_key for r in records} == {p.person_key for p in people}
    assert {r.system for r in records} == set(SILO_SYSTEMS)
    truth = truth_by_record(records)
    assert len(truth) == len(records)  # record keys are unique within each system
    assert "person_key" not in records[0].fields()


def test_records_carry_the_errors_matching_must_see_through() -> None:
    people = generate_people(3_000, seed=5)
    by_key = {p.person_key: p for p in people}
    records = generate_silo_records(people, seed=6)
    kinds: Counter[str] = Counter()
    for r in records:
        p = by_key[r.person_key]
        if r.first_name == NICKNAMES.get(p.first_name):
            kinds["nickname"] += 1
        elif r.first_name and r.first_name.lower() != p.first_name.lower():
            kinds["first name typo"] += 1
        if r.last_name and r.last_name.lower() != p.last_name.lower():
            kinds["last name typo"] += 1
        if r.street is not None and r.street != p.address.street:
            kinds["other street"] += 1
        if r.date_of_birth is None:
            kinds["no birth date"] += 1
        elif r.date_of_birth != p.date_of_birth.isoformat():
            kinds["birth date error"] += 1
        if r.email is None:
            kinds["no email"] += 1
    assert all(
        kinds[k] > 20
        for k in (
            "nickname",
            "first name typo",
            "last name typo",
            "other street",
            "no birth date",
            "birth date error",
            "no email",
        )
    ), kinds
    households = Counter((r.street, r.postcode) for r in records if r.street)
    assert any(n > 3 for n in households.values())  # families share an address
