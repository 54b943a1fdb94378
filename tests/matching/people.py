"""Hand-made silo records whose outcome is plain to a person, among synthetic background customers."""

from __future__ import annotations

from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import SiloRecord, generate_silo_records


def silo(
    system: str,
    key: str,
    first: str | None,
    last: str | None,
    dob: str | None,
    street: str | None,
    postcode: str | None,
    phone: str | None = None,
    email: str | None = None,
    national_id: str | None = None,
    person: str = "x",
    city: str = "Springfield",
) -> SiloRecord:
    return SiloRecord(
        system, key, first, last, dob, street, city, postcode, phone, email, national_id, person, "h-" + person
    )


# The same man in checking and cards: a nickname, everything else agrees -> merged automatically.
WILLIAM = silo(
    "checking",
    "CHK-T1",
    "William",
    "Hartwell",
    "1970-03-14",
    "12 Elm Street",
    "94107",
    "+14155550123",
    person="william",
)
BILL = silo("cards", "CRD-T1", "Bill", "Hartwell", "1970-03-14", "12 Elm St", "94107", "+14155550123", person="william")
# The same woman after a move to another town, her names mistyped in one system and another email address in
# each -> uncertain: review (p 0.83; without the emails 0.98 since training takes the true matches' share out of
# the names' and birth date's u). (A move within the town is merged: the same city is evidence.)
KATHERINE = silo(
    "checking",
    "CHK-T2",
    "Katherine",
    "Morrison",
    "1985-07-02",
    "5 Oak Avenue",
    "10001",
    email="katherine.morrison@example.com",
    person="katherine",
)
KATHRYN = silo(
    "mortgage",
    "MTG-T2",
    "Katharine",
    "Morrisson",
    "1985-07-02",
    "77 Pine Road",
    "60601",
    email="kmorrisson@example.org",
    person="katherine",
    city="Shelbyville",
)
# Two people who share a surname and a town and nothing else -> kept apart (never even a pair worth storing).
JOHN = silo("checking", "CHK-T3", "John", "Prescott", "1990-01-01", "1 Main Street", "30301", person="john")
MARY = silo("cards", "CRD-T3", "Mary", "Prescott", "1961-05-05", "9 Hill Road", "30302", person="mary")
# Twins: one address, one landline, one birthday, two first names -> never merged automatically (household
# guard); a reviewer sees them and says no.
PETER = silo(
    "checking", "CHK-T4", "Peter", "Quennell", "1975-06-30", "8 Mill Lane", "02139", "+16175550188", person="peter"
)
PAUL = silo("cards", "CRD-T4", "Paul", "Quennell", "1975-06-30", "8 Mill Lane", "02139", "+16175550188", person="paul")
HANDMADE = [WILLIAM, BILL, KATHERINE, KATHRYN, JOHN, MARY, PETER, PAUL]


def background(n_people: int = 150, seed: int = 41) -> list[SiloRecord]:
    """Synthetic customers across the silos, so term frequencies and blocking look like a real table."""
    return generate_silo_records(generate_people(n_people, seed=seed), seed=seed + 1)
