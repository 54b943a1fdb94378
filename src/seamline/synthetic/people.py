"""Synthetic people with ground truth: who each customer really is, what they hold and which devices they use.

The model. People live in households (1-4 members) that share an address; some households share a landline, so one
phone number can belong to two people, and in some households with two registered members the family shares a
tablet, so one device (and its anonymous id) belongs to both. Partners may hold a joint checking account or a joint
mortgage, so one account id belongs to two people. These are the cases where a value seen on two people's events is
not evidence that they are one person.

Everything else is unique to one person: emails, mobile numbers, user ids, own devices, their own accounts. Values
are drawn from ranges kept for fiction (555 numbers, Ofcom drama ranges, example.* domains). `person_key` and
`household_key` are the truth; they never appear in anything a source sends. The same seed gives the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from seamline.synthetic.draw import Weighted, below, pick, random_uuid
from seamline.synthetic.names import (
    EMAIL_DOMAINS,
    FIRST_NAMES,
    GB_CITIES,
    GB_MOBILE_PREFIX,
    GB_STREET_SUFFIXES,
    LAST_NAMES,
    NICKNAMES,
    STREET_NAMES,
    US_CITIES,
    US_STREET_SUFFIXES,
)

DeviceKind = Literal["web", "ios", "android"]
HoldingKind = Literal["checking_account", "credit_card", "mortgage", "order"]

# Ages are counted from a fixed day, not today, so the same seed gives the same people in any year.
REFERENCE_DAY: Final = date(2025, 1, 1)
HOUSEHOLD_SIZES: Final = Weighted((1, 2, 3, 4), (0.38, 0.34, 0.17, 0.11))
EMAIL_COUNTS: Final = Weighted((0, 1, 2), (0.1, 0.65, 0.25))
DEVICE_COUNTS: Final = Weighted((1, 2, 3), (0.45, 0.4, 0.15))
ORDER_COUNTS: Final = Weighted((0, 1, 2, 3, 4), (0.45, 0.25, 0.15, 0.1, 0.05))
GB_SHARE: Final = 0.1
SOURCE_SYSTEMS: Final[dict[HoldingKind, str]] = {
    "checking_account": "core-banking",
    "credit_card": "cards-system",
    "mortgage": "mortgage-system",
    "order": "web-shop",
}
_BROWSERS: Final = ("Chrome 126", "Safari 17.5", "Firefox 127", "Edge 126")
_PHONES: Final[dict[str, tuple[str, ...]]] = {
    "ios": ("iPhone14,2", "iPhone14,7", "iPhone15,3", "iPhone16,1"),
    "android": ("Pixel 7", "Pixel 8", "SM-S911B", "SM-A546B"),
}
_TABLETS: Final[dict[str, tuple[str, ...]]] = {"ios": ("iPad13,18", "iPad14,1"), "android": ("SM-X710", "SM-X200")}


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; everyone in a household shares one."""

    street: str
    city: str
    postcode: str
    country: Literal["US", "GB"]


@dataclass(frozen=True, slots=True)
class Device:
    """A browser or app install: its device id (sent as context.device.id by the apps only) and its anonymous id."""

    device_id: str
    anonymous_id: str
    kind: DeviceKind
    model: str
    is_shared: bool = False


@dataclass(frozen=True, slots=True)
class Holding:
    """A product a person holds; a joint account is the same Holding on two people."""

    kind: HoldingKind
    external_id: str
    status: str
    opened_on: date
    source_system: str


@dataclass(frozen=True, slots=True)
class Person:
    """One real customer and everything that truly belongs to them."""

    person_key: str
    household_key: str
    first_name: str
    last_name: str
    nickname: str | None
    date_of_birth: date
    emails: tuple[str, ...]
    phone: str | None
    address: Address
    user_id: str | None
    devices: tuple[Device, ...]
    holdings: tuple[Holding, ...]

    @property
    def is_registered(self) -> bool:
        """Whether the person has a login (and so a user id)."""
        return self.user_id is not None


def generate_people(
    n: int,
    seed: int,
    *,
    registered_share: float = 0.7,
    family_tablet_share: float = 0.3,
) -> list[Person]:
    """`n` people in households, the same for the same seed and knobs."""
    if n < 0:
        raise ValueError("n must not be negative")
    return _PeopleFactory(random.Random(seed), registered_share, family_tablet_share).people(n)


class _PeopleFactory:
    """Draws households one at a time; keeps the sets that make unique values unique."""

    def __init__(self, rng: random.Random, registered_share: float, family_tablet_share: float) -> None:
        self.rng = rng
        self.registered_share = registered_share
        self.family_tablet_share = family_tablet_share
        self.used: set[str] = set()
        self.gb_free: dict[str, list[str]] = {}

    def people(self, n: int) -> list[Person]:
        out: list[Person] = []
        household = 0
        while len(out) < n:
            size = min(HOUSEHOLD_SIZES.pick(self.rng), n - len(out))
            out.extend(self._household(f"h-{household:06d}", size, len(out)))
            household += 1
        return out

    def _unique(self, value: str) -> bool:
        if value in self.used:
            return False
        self.used.add(value)
        return True

    def _household(self, household_key: str, size: int, first_index: int) -> list[Person]:
        rng = self.rng
        country: Literal["US", "GB"] = "GB" if rng.random() < GB_SHARE else "US"
        address, city_code = self._address(country)
        family_name = pick(rng, LAST_NAMES)
        landline = self._phone(country, city_code, mobile=False) if rng.random() < 0.35 else None
        head_age = 22 + below(rng, 64)
        drafts: list[_Draft] = []
        for index in range(size):
            age = head_age - 5 + below(rng, 11) if index == 1 else 18 + below(rng, 73) if index else head_age
            last = family_name if index == 0 or rng.random() < 0.8 else pick(rng, LAST_NAMES)
            drafts.append(self._draft(country, city_code, landline, max(18, age), last))
        self._share_tablet(drafts)
        self._share_accounts(drafts)
        return [
            Person(
                person_key=f"p-{first_index + i:06d}",
                household_key=household_key,
                first_name=d.first_name,
                last_name=d.last_name,
                nickname=NICKNAMES.get(d.first_name),
                date_of_birth=d.date_of_birth,
                emails=d.emails,
                phone=d.phone,
                address=address,
                user_id=d.user_id,
                devices=tuple(d.devices),
                holdings=tuple(d.holdings),
            )
            for i, d in enumerate(drafts)
        ]

    def _draft(self, country: Literal["US", "GB"], city_code: str, landline: str | None, age: int, last: str) -> _Draft:
        rng = self.rng
        first = pick(rng, FIRST_NAMES)
        born = REFERENCE_DAY - timedelta(days=age * 365 + below(rng, 365))
        registered = rng.random() < self.registered_share
        email_count = EMAIL_COUNTS.pick(rng)
        emails = tuple(self._email(first, last, born) for _ in range(max(email_count, 1 if registered else 0)))
        if landline is not None and rng.random() < 0.5:
            phone: str | None = landline
        elif rng.random() < 0.85:
            phone = self._phone(country, city_code, mobile=True)
        else:
            phone = None
        user_id = self._user_id() if registered else None
        draft = _Draft(first, last, born, emails, phone, user_id, self._devices(), [])
        draft.holdings.extend(self._holdings(born))
        return draft

    def _address(self, country: Literal["US", "GB"]) -> tuple[Address, str]:
        rng = self.rng
        number = 1 + below(rng, 9999 if country == "US" else 240)
        if country == "US":
            us = pick(rng, US_CITIES)
            street = f"{number} {pick(rng, STREET_NAMES)} {pick(rng, US_STREET_SUFFIXES)}"
            postcode = f"{us.zip_prefix}{below(rng, 100):02d}"
            return Address(street, us.name, postcode, "US"), us.area_code
        gb = pick(rng, GB_CITIES)
        street = f"{number} {pick(rng, STREET_NAMES)} {pick(rng, GB_STREET_SUFFIXES)}"
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{gb.postcode_area}{1 + below(rng, 20)} {1 + below(rng, 9)}{pick(rng, letters)}{pick(rng, letters)}"
        return Address(street, gb.name, postcode, "GB"), gb.drama_prefix

    def _phone(self, country: Literal["US", "GB"], city_code: str, *, mobile: bool) -> str | None:
        """A fresh E.164 number, or None when the country's fictional range is used up."""
        if country == "US":
            # A mobile may come from any city; 555 numbers are not given to subscribers.
            area = pick(self.rng, US_CITIES).area_code if mobile and self.rng.random() < 0.3 else city_code
            for _ in range(50):
                number = f"+1{area}555{below(self.rng, 10_000):04d}"
                if self._unique(number):
                    return number
            return None
        # Ofcom keeps only 1,000 drama mobiles; when they run out a person's own line comes from their city's range.
        for prefix in (GB_MOBILE_PREFIX, city_code) if mobile else (city_code,):
            free = self.gb_free.get(prefix)
            if free is None:
                free = [f"+44{prefix}{i:03d}" for i in range(1000)]
                self.rng.shuffle(free)
                self.gb_free[prefix] = free
            if free:
                return free.pop()
        return None

    def _email(self, first: str, last: str, born: date) -> str:
        rng = self.rng
        first_part = (NICKNAMES.get(first, first) if rng.random() < 0.2 else first).lower()
        last_part = last.lower().replace("'", "")
        local = pick(
            rng,
            (
                f"{first_part}.{last_part}",
                f"{first_part}{last_part}",
                f"{first_part[0]}{last_part}",
                f"{first_part}_{born.year % 100:02d}",
                f"{last_part}.{first_part}",
            ),
        )
        domain = pick(rng, EMAIL_DOMAINS)
        email = f"{local}@{domain}"
        while not self._unique(email):
            email = f"{local}{1 + below(rng, 9999)}@{domain}"
        return email

    def _user_id(self) -> str:
        while True:
            user_id = f"usr_{self.rng.getrandbits(48):012x}"
            if self._unique(user_id):
                return user_id

    def _devices(self) -> list[Device]:
        rng = self.rng
        platform: DeviceKind = "ios" if rng.random() < 0.55 else "android"
        count = DEVICE_COUNTS.pick(rng)
        kinds: list[DeviceKind] = ["web", platform, "web"] if rng.random() < 0.5 else [platform, "web", "web"]
        return [self._device(kind, pick(rng, _BROWSERS if kind == "web" else _PHONES[kind])) for kind in kinds[:count]]

    def _device(self, kind: DeviceKind, model: str, *, is_shared: bool = False) -> Device:
        device_id = random_uuid(self.rng)
        anonymous_id = random_uuid(self.rng)
        if kind == "ios":
            # The iOS SDKs write UUIDs in capitals; analytics.js and Android in lower case.
            device_id, anonymous_id = device_id.upper(), anonymous_id.upper()
        elif kind == "android":
            device_id = f"{self.rng.getrandbits(64):016x}"
        return Device(device_id, anonymous_id, kind, model, is_shared)

    def _share_tablet(self, drafts: list[_Draft]) -> None:
        registered = [d for d in drafts if d.user_id is not None]
        if len(registered) < 2 or self.rng.random() >= self.family_tablet_share:
            return
        kind: DeviceKind = pick(self.rng, ("ios", "android"))
        tablet = self._device(kind, pick(self.rng, _TABLETS[kind]), is_shared=True)
        for draft in registered[:2]:
            draft.devices.append(tablet)

    def _share_accounts(self, drafts: list[_Draft]) -> None:
        if len(drafts) < 2:
            return
        first, second = drafts[0], drafts[1]
        if self.rng.random() < 0.2:
            joint = self._holding("checking_account", max(first.date_of_birth, second.date_of_birth))
            first.holdings.append(joint)
            second.holdings.append(joint)
        if self.rng.random() < 0.15:
            first.holdings[:] = [h for h in first.holdings if h.kind != "mortgage"]
            second.holdings[:] = [h for h in second.holdings if h.kind != "mortgage"]
            joint = self._holding("mortgage", max(first.date_of_birth, second.date_of_birth))
            first.holdings.append(joint)
            second.holdings.append(joint)

    def _holdings(self, born: date) -> list[Holding]:
        rng = self.rng
        kinds: list[HoldingKind] = []
        if rng.random() < 0.6:
            kinds.append("checking_account")
        if rng.random() < 0.35:
            kinds.append("credit_card")
        if rng.random() < 0.1:
            kinds.append("mortgage")
        kinds.extend(["order"] * ORDER_COUNTS.pick(rng))
        return [self._holding(kind, born) for kind in kinds]

    def _holding(self, kind: HoldingKind, born: date) -> Holding:
        rng = self.rng
        earliest = max(date(2005, 1, 1), born + timedelta(days=18 * 366))
        opened = earliest + timedelta(days=below(rng, max(1, (REFERENCE_DAY - earliest).days)))
        prefix, digits, statuses = _HOLDING_SHAPES[kind]
        while True:
            external_id = f"{prefix}{below(rng, 10**digits):0{digits}d}"
            if self._unique(external_id):
                break
        status = statuses.pick(rng)
        return Holding(kind, external_id, status, opened, SOURCE_SYSTEMS[kind])


_HOLDING_SHAPES: Final[dict[HoldingKind, tuple[str, int, Weighted[str]]]] = {
    "checking_account": ("CHK-", 10, Weighted(("open", "closed", "frozen"), (0.9, 0.08, 0.02))),
    "credit_card": (
        "CC-",
        12,
        Weighted(("active", "pending_activation", "blocked", "closed"), (0.8, 0.08, 0.04, 0.08)),
    ),
    "mortgage": ("MTG-", 9, Weighted(("active", "in_arrears", "repaid"), (0.85, 0.03, 0.12))),
    "order": ("ORD-", 10, Weighted(("completed", "shipped", "returned", "cancelled"), (0.7, 0.15, 0.1, 0.05))),
}


@dataclass(slots=True)
class _Draft:
    """A person before the household's shared things are handed out."""

    first_name: str
    last_name: str
    date_of_birth: date
    emails: tuple[str, ...]
    phone: str | None
    user_id: str | None
    devices: list[Device]
    holdings: list[Holding]
