"""The canonical customer model: the one vocabulary of the golden record, and every source's names mapped onto it.

Pure. Segment's reserved traits are the base (spelt in snake_case, like the import mappings and the matcher's
fields; Segment's camelCase spellings are aliases), the common names silo systems use are known aliases, and the
configuration (`[traits]`) adds traits and aliases. A structured address is one value, a mapping of its parts:
flat parts an event states (`street`, `postcode`…) are gathered into it, so a correction replaces it whole.

Canonicalizing sits on the worker's per-event path, so it is a dict lookup per trait name, planned once per name:
no regular expression runs per event, and a name the model does not know passes through as it came.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import BaseModel, Field, ValidationInfo, field_validator

ADDRESS: Final = "address"
# Segment's reserved traits (https://segment.com/docs/connections/spec/identify/#traits), with their labels.
BASE_TRAITS: Final[dict[str, str]] = {
    "name": "Full name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "birthday": "Date of birth",
    ADDRESS: "Address",
    "title": "Title",
    "gender": "Gender",
    "age": "Age",
    "username": "Username",
    "company": "Company",
    "website": "Website",
    "description": "Description",
    "avatar": "Avatar",
    "created_at": "Customer since",
}
ADDRESS_PARTS: Final[dict[str, str]] = {
    "street": "Street",
    "city": "City",
    "postal_code": "Postal code",
    "state": "State",
    "country": "Country",
}
# Names sources use for the same things. A dotted target is a part of the address.
DEFAULT_ALIASES: Final[dict[str, str]] = {
    "fullName": "name",
    "full_name": "name",
    "firstName": "first_name",
    "given_name": "first_name",
    "givenName": "first_name",
    "forename": "first_name",
    "lastName": "last_name",
    "family_name": "last_name",
    "familyName": "last_name",
    "surname": "last_name",
    "email_address": "email",
    "emailAddress": "email",
    "telephone": "phone",
    "mobile": "phone",
    "phone_number": "phone",
    "phoneNumber": "phone",
    "mobile_phone": "phone",
    "mobilePhone": "phone",
    "date_of_birth": "birthday",
    "dateOfBirth": "birthday",
    "dob": "birthday",
    "birth_date": "birthday",
    "birthDate": "birthday",
    "createdAt": "created_at",
    "street": "address.street",
    "street_address": "address.street",
    "streetAddress": "address.street",
    "address_line1": "address.street",
    "addressLine1": "address.street",
    "city": "address.city",
    "town": "address.city",
    "postcode": "address.postal_code",
    "post_code": "address.postal_code",
    "postal_code": "address.postal_code",
    "postalCode": "address.postal_code",
    "zip": "address.postal_code",
    "zipcode": "address.postal_code",
    "zip_code": "address.postal_code",
    "state": "address.state",
    "province": "address.state",
    "region": "address.state",
    "country": "address.country",
    "country_code": "address.country",
    "countryCode": "address.country",
}
# Names of the parts inside an address object (Segment spells them camelCase; silo systems their own way).
PART_ALIASES: Final[dict[str, str]] = {
    "postalCode": "postal_code",
    "postcode": "postal_code",
    "post_code": "postal_code",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "zip_code": "postal_code",
    "line1": "street",
    "address_line1": "street",
    "addressLine1": "street",
    "street_address": "street",
    "streetAddress": "street",
    "town": "city",
    "province": "state",
    "region": "state",
    "country_code": "country",
    "countryCode": "country",
}


class VocabularyConfig(BaseModel):
    """`[traits]` in the config file: traits beyond Segment's (name → label) and more source names for them."""

    extra: dict[str, str] = Field(
        default_factory=dict, description="More canonical traits and their labels, e.g. loyalty_tier = 'Loyalty tier'."
    )
    aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Source name → canonical trait (or address.<part>), added to the common aliases known by default.",
    )

    @field_validator("aliases")
    @classmethod
    def _known_targets(cls, aliases: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        known = {*BASE_TRAITS, *info.data.get("extra", {}), *(f"{ADDRESS}.{p}" for p in ADDRESS_PARTS)}
        unknown = sorted(f"{k} = {v!r}" for k, v in aliases.items() if v not in known)
        if unknown:
            raise ValueError(f"aliases must name a canonical trait or address part: {', '.join(unknown)}")
        return aliases


@dataclass(frozen=True, slots=True)
class CanonicalTraits:
    """An event's traits in the canonical vocabulary, and the source's own name of each one it renamed."""

    values: dict[str, Any]
    source_names: dict[str, str] = field(default_factory=dict)


def _humanize(name: str) -> str:
    words: list[str] = []
    current = ""
    for char in name.replace("-", "_"):
        if char == "_" or (char.isupper() and current and not current[-1].isupper()):
            if current:
                words.append(current.lower())
            current = "" if char == "_" else char
        else:
            current += char
    if current:
        words.append(current.lower())
    text = " ".join(words)
    return text[:1].upper() + text[1:] if text else name


class Vocabulary:
    """The canonical model as configured (build once per process, use per event)."""

    def __init__(self, config: VocabularyConfig | None = None) -> None:
        config = config or VocabularyConfig()
        self.labels: dict[str, str] = {**BASE_TRAITS, **config.extra}
        # name → (canonical trait, address part or None); canonical names map to themselves.
        self._plan: dict[str, tuple[str, str | None]] = {}
        for alias, target in {**DEFAULT_ALIASES, **config.aliases}.items():
            head, _, part = target.partition(".")
            self._plan[alias] = (head, part or None)
        for name in self.labels:
            self._plan[name] = (name, None)
        self._rank = {name: i for i, name in enumerate(self.labels)}

    def canonical_name(self, name: str) -> str:
        """The canonical trait a source's name stands for (an address part stands for the address)."""
        planned = self._plan.get(name)
        return planned[0] if planned is not None else name

    def canonicalize(self, traits: Mapping[str, Any]) -> CanonicalTraits:
        """The traits renamed onto the model; address parts gathered into one address. Unknown names pass through.

        When an event states one trait twice (`phone` and `mobile`), the canonical spelling (else the first
        stated) takes the canonical name and the other keeps its own, so no value is lost.
        """
        values: dict[str, Any] = {}
        renamed: dict[str, str] = {}
        parts: dict[str, Any] | None = None
        part_names: list[str] = []
        plan = self._plan
        for name, value in traits.items():
            planned = plan.get(name)
            if planned is None:
                values.setdefault(name, value)
                continue
            target, part = planned
            if part is not None:
                if value == "":
                    continue
                if parts is None:
                    parts = {}
                if part not in parts:
                    parts[part] = value
                    part_names.append(name)
                continue
            if target == ADDRESS:
                value = self.address(value)
            if target == name:
                if name in values and name in renamed:  # an alias took the slot first: it keeps its own name
                    alias = renamed.pop(name)
                    if values[name] != value:  # the same value under two names is one fact
                        values[alias] = values[name]
                values[name] = value
            elif target in values:
                if values[target] != value:  # the same value under two names is one fact
                    values.setdefault(name, value)
            else:
                values[target] = value
                renamed[target] = name
        if parts is not None:
            held = values.get(ADDRESS)
            if isinstance(held, dict):
                values[ADDRESS] = {**parts, **held}  # the address object wins over flat parts beside it
                renamed[ADDRESS] = ", ".join([renamed.get(ADDRESS, ADDRESS), *part_names])
            elif held is None:
                values[ADDRESS] = parts
                renamed[ADDRESS] = ", ".join(part_names)
            else:  # a one-line address beside flat parts: both kept, the parts under their own names
                for name in part_names:
                    values.setdefault(name, traits[name])
        return CanonicalTraits(values, renamed)

    @staticmethod
    def address(value: Any) -> Any:
        """An address object with its parts canonically named; anything else (a one-line address) as it came."""
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, part in value.items():
            name = PART_ALIASES.get(str(key), str(key))
            if part is not None and part != "":
                out.setdefault(name, part)
        return out

    def order(self, name: str) -> tuple[int, str]:
        """Where a trait goes on a page: the model's traits in its order (names, contact, birthday, address), then
        the rest by name."""
        return (self._rank.get(name, len(self._rank)), name)

    def label(self, name: str) -> str:
        """A trait's human label: the model's, else its name in words ('national_id' → 'National id')."""
        return self.labels.get(name) or _humanize(name)


def part_label(part: str) -> str:
    """An address part's human label."""
    return ADDRESS_PARTS.get(part) or _humanize(part)


def address_text(value: Mapping[str, Any]) -> str:
    """An address on one line, parts in their usual order: '12 High St, Leeds, LS1 4AB, GB'."""
    ordered = [value.get(p) for p in ADDRESS_PARTS] + [v for k, v in value.items() if k not in ADDRESS_PARTS]
    return ", ".join(str(v) for v in ordered if v not in (None, ""))


DEFAULT_VOCABULARY: Final = Vocabulary()
