"""Silo records with ground truth: the customer databases of product lines that grew apart, for record matching.

A bank that grew by merger keeps one customer database per product line: checking, cards, mortgage. Each holds
its own record key and its own copy of the customer, typed in by different people over years. So the same person
appears in several silos with errors a matcher must see through:

- typos in names (a letter dropped, doubled, replaced) and transposed letters;
- a nickname instead of the first name (Bill for William), names in capitals from an old mainframe;
- a former address (the person moved and only one silo heard of it), or a former phone;
- missing fields (no email in the mortgage system, no phone in cards, sometimes no date of birth);
- a date of birth with one digit mistyped, or day and month swapped;
- a second record of the same person in one silo (a new customer number for a second product).

And the cases where agreeing values are NOT one person: household members share an address, usually a last name
and sometimes a landline. `person_key` is the truth; it never appears among the fields a matcher reads. Pure and
reproducible: the same people and seed give the same records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final

from seamline.matching.prepare import FIELDS
from seamline.synthetic.draw import below, pick
from seamline.synthetic.names import GB_STREET_SUFFIXES, NICKNAMES, STREET_NAMES, US_STREET_SUFFIXES
from seamline.synthetic.people import Person

# system -> (record key prefix, digits, share of people with a record there, share with a national id)
SILO_SYSTEMS: Final[dict[str, tuple[str, int, float, float]]] = {
    "checking": ("CHK-C", 9, 0.75, 0.7),
    "cards": ("CRD-", 10, 0.5, 0.35),
    "mortgage": ("MTG-C", 8, 0.25, 0.95),
}
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"
_KEYBOARD_NEIGHBOURS: Final = dict(
    zip(
        _LETTERS,
        [
            "qsz",
            "wvxn",
            "xdfv",
            "serf",
            "wrd",
            "drtg",
            "fthv",
            "gyjb",
            "ujko",
            "hukm",
            "jilm",
            "kop",
            "njk",
            "bhjm",
            "iplk",
            "ol",
            "wa",
            "etd",
            "awdz",
            "ryg",
            "yij",
            "cfbg",
            "qase",
            "zcds",
            "tuh",
            "xas",
        ],
        strict=True,
    )
)


# The columns of a silo's export besides its record key, in order: the fields the matcher compares.
SILO_FIELDS: Final = FIELDS


@dataclass(frozen=True, slots=True)
class SiloRecord:
    """One customer record as a silo system holds it, with the truth beside it."""

    system: str
    record_key: str
    first_name: str | None
    last_name: str | None
    date_of_birth: str | None
    street: str | None
    city: str | None
    postcode: str | None
    phone: str | None
    email: str | None
    national_id: str | None
    person_key: str
    household_key: str

    def fields(self) -> dict[str, str | None]:
        """What the silo's export says (the truth left out), in `SILO_FIELDS` order."""
        return {name: getattr(self, name) for name in SILO_FIELDS}


@dataclass(frozen=True, slots=True)
class SiloErrors:
    """How often each kind of error happens, per record (the defaults are what the tests and benchmark use)."""

    nickname: float = 0.12
    first_name_typo: float = 0.04
    last_name_typo: float = 0.05
    capitals: float = 0.1
    moved: float = 0.15
    old_phone: float = 0.1
    missing_dob: float = 0.04
    dob_typo: float = 0.03
    dob_swapped: float = 0.01
    missing_street: float = 0.04
    street_typo: float = 0.04
    missing_phone: float = 0.3
    missing_email: float = 0.35
    duplicate_in_silo: float = 0.03


def generate_silo_records(people: list[Person], seed: int, *, errors: SiloErrors | None = None) -> list[SiloRecord]:
    """Every person's records across the silo systems (at least one each), with realistic errors."""
    rng = random.Random(seed)
    rates = errors or SiloErrors()
    factory = _SiloFactory(rng, rates)
    out: list[SiloRecord] = []
    for person in people:
        out.extend(factory.records(person))
    return out


def national_id_of(person_key: str) -> str:
    """The person's national id: 9xx area numbers are never issued as US social security numbers (fiction)."""
    digits = f"{int(person_key.rsplit('-', 1)[1]):08d}"
    return f"9{digits[:2]}-{digits[2:4]}-{digits[4:]}"


class _SiloFactory:
    def __init__(self, rng: random.Random, rates: SiloErrors) -> None:
        self.rng = rng
        self.rates = rates
        self.keys: dict[str, int] = dict.fromkeys(SILO_SYSTEMS, 0)

    def records(self, person: Person) -> list[SiloRecord]:
        rng = self.rng
        systems = [s for s, (_p, _d, share, _n) in SILO_SYSTEMS.items() if rng.random() < share]
        if not systems:
            systems = [pick(rng, tuple(SILO_SYSTEMS))]
        if rng.random() < self.rates.duplicate_in_silo:
            systems.append(pick(rng, systems))
        moved = rng.random() < self.rates.moved
        old_street = self._street(person.address.country) if moved else None
        old_phone = self._phone_variant(person.phone) if person.phone and rng.random() < self.rates.old_phone else None
        return [self._record(person, system, old_street, old_phone) for system in systems]

    def _record(self, person: Person, system: str, old_street: str | None, old_phone: str | None) -> SiloRecord:
        rng, rates = self.rng, self.rates
        prefix, digits, _share, id_share = SILO_SYSTEMS[system]
        self.keys[system] += 1
        # Sequential keys scrambled by a fixed odd multiplier: unique, and not in the people's order.
        key = f"{prefix}{(self.keys[system] * 7_919_993) % 10**digits:0{digits}d}"
        first: str | None = person.first_name
        nickname = NICKNAMES.get(person.first_name)
        if nickname is not None and rng.random() < rates.nickname:
            first = nickname
        if rng.random() < rates.first_name_typo:
            first = self._typo(person.first_name)
        last: str | None = self._typo(person.last_name) if rng.random() < rates.last_name_typo else person.last_name
        if rng.random() < rates.capitals:
            first, last = (first or "").upper() or None, (last or "").upper() or None
        street: str | None = old_street if old_street is not None and rng.random() < 0.5 else person.address.street
        if street is not None and rng.random() < rates.street_typo:
            street = self._typo(street)
        if rng.random() < rates.missing_street:
            street = None
        moved_here = street is not None and street == old_street
        phone = old_phone if old_phone is not None and rng.random() < 0.5 else person.phone
        if rng.random() < rates.missing_phone:
            phone = None
        email = pick(rng, person.emails) if person.emails and rng.random() >= rates.missing_email else None
        return SiloRecord(
            system=system,
            record_key=key,
            first_name=first,
            last_name=last,
            date_of_birth=self._dob(person.date_of_birth),
            street=street,
            city=person.address.city,
            # A former address has its own postcode: the last two digits (US) or the inward code (GB) differ.
            postcode=self._postcode_variant(person.address.postcode) if moved_here else person.address.postcode,
            phone=phone,
            email=email,
            national_id=national_id_of(person.person_key) if rng.random() < id_share else None,
            person_key=person.person_key,
            household_key=person.household_key,
        )

    def _dob(self, born: date) -> str | None:
        rng, rates = self.rng, self.rates
        roll = rng.random()
        if roll < rates.missing_dob:
            return None
        text = born.isoformat()
        roll -= rates.missing_dob
        if roll < rates.dob_typo:
            position = pick(rng, (2, 3, 6, 9))  # a year's last digits, a month's or a day's last digit
            digit = str((int(text[position]) + 1 + below(rng, 8)) % 10)
            candidate = text[:position] + digit + text[position + 1 :]
            try:
                date.fromisoformat(candidate)
            except ValueError:
                return text
            return candidate
        roll -= rates.dob_typo
        if roll < rates.dob_swapped and born.day <= 12 and born.day != born.month:
            return date(born.year, born.day, born.month).isoformat()
        return text

    def _typo(self, text: str) -> str:
        """One keyboard slip: a letter replaced by a neighbour, dropped, doubled, or two letters transposed."""
        rng = self.rng
        if len(text) < 3:
            return text
        i = 1 + below(rng, len(text) - 2)  # keep the first letter: people rarely get that wrong
        kind = below(rng, 4)
        char = text[i]
        if kind == 0 and char.lower() in _KEYBOARD_NEIGHBOURS:
            replacement = pick(rng, _KEYBOARD_NEIGHBOURS[char.lower()].replace(" ", "") or char.lower())
            return text[:i] + (replacement.upper() if char.isupper() else replacement) + text[i + 1 :]
        if kind == 1:
            return text[:i] + text[i + 1 :]
        if kind == 2:
            return text[:i] + char + text[i:]
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :] if i + 1 < len(text) else text[:i] + char + char

    def _street(self, country: str) -> str:
        rng = self.rng
        suffixes = US_STREET_SUFFIXES if country == "US" else GB_STREET_SUFFIXES
        number = 1 + below(rng, 9999 if country == "US" else 240)
        return f"{number} {pick(rng, STREET_NAMES)} {pick(rng, suffixes)}"

    def _phone_variant(self, phone: str) -> str:
        # A former number in the same fictional range: the last four digits differ.
        return f"{phone[:-4]}{below(self.rng, 10_000):04d}"

    def _postcode_variant(self, postcode: str) -> str:
        if " " in postcode:
            outward, _inward = postcode.split(" ", 1)
            if self.rng.random() < 0.5:
                outward = f"{outward.rstrip('0123456789')}{1 + below(self.rng, 20)}"
            return (
                f"{outward} {1 + below(self.rng, 9)}{pick(self.rng, 'ABDEFGHJLNPQRSTUWXYZ')}{pick(self.rng, 'ABDEFG')}"
            )
        # Half of all moves leave the district (another ZIP prefix); the rest stay near.
        prefix = postcode[:3] if self.rng.random() < 0.5 else f"{100 + below(self.rng, 900)}"
        return f"{prefix}{below(self.rng, 100):02d}"


def truth_by_record(records: list[SiloRecord]) -> dict[str, str]:
    """'system:record_key' -> person_key: the truth side of `pairwise_scores` over silo records."""
    return {f"{r.system}:{r.record_key}": r.person_key for r in records}
