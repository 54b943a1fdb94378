"""Preparing a record for comparison: normal forms, phonetic codes and nickname forms. Pure: values in, values out.

The batch (Splink over DuckDB or Spark) and the real-time scorer read the same prepared columns, so a record is
compared the same way wherever it is matched. Phonetic codes come from `jellyfish` (Double Metaphone's ancestor,
Metaphone: one code per name, cheap, and a Rust implementation); nickname forms from the `nicknames` package (a
hand-curated list of ~1,100 English names and their nicknames, both directions).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any, Final

import jellyfish
from nicknames import NickNamer

from seamline.identity.identifiers import normalize_email, normalize_phone

# The prepared columns, in the order the model's input table has them.
COLUMNS: Final = (
    "first_name",
    "first_name_metaphone",
    "first_name_forms",
    "first_initial",
    "last_name",
    "last_name_metaphone",
    "last_initial",
    "name_sounds",
    "initials",
    "date_of_birth",
    "birth_year",
    "birth_date_unordered",
    "street",
    "city",
    "postcode",
    "postcode_district",
    "address",
    "address_known",
    "phone",
    "email",
    "email_local",
    "national_id",
)
FIELDS: Final = (
    "first_name",
    "last_name",
    "date_of_birth",
    "street",
    "city",
    "postcode",
    "phone",
    "email",
    "national_id",
)
_NOT_LETTERS = re.compile(r"[^a-z]+")
_SPACES = re.compile(r"\s+")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_DATE_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"),  # ISO, possibly with a time after it
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),  # YYYYMMDD, as many exports write it
)
_STREET_WORDS: Final = {
    "street": "st",
    "avenue": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "lane": "ln",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "close": "cl",
    "crescent": "cres",
    "gardens": "gdns",
}
_namer = NickNamer()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


@lru_cache(maxsize=100_000)
def name_form(raw: str) -> str | None:
    """A name lower-cased, accents and everything but letters dropped (O'Brien -> obrien)."""
    text = _NOT_LETTERS.sub("", _ascii(raw).lower())
    return text or None


@lru_cache(maxsize=100_000)
def metaphone(name: str) -> str:
    return jellyfish.metaphone(name)


@lru_cache(maxsize=100_000)
def nickname_forms(first_name: str) -> tuple[str, ...]:
    """The name and every formal name it is a nickname of (bill -> bill, william, robert, …), sorted."""
    return tuple(sorted({first_name, *_namer.canonicals_of(first_name)}))


def birth_date(raw: Any) -> str | None:
    """ISO date of birth from an ISO string (or a date); None when it is not a real date."""
    if isinstance(raw, date):
        return raw.isoformat()
    if not isinstance(raw, str):
        return None
    for pattern in _DATE_FORMATS:
        found = pattern.match(raw.strip())
        if found:
            year, month, day = (int(g) for g in found.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return None
    return None


@lru_cache(maxsize=100_000)
def street_form(raw: str) -> str | None:
    words = _SPACES.split(re.sub(r"[^a-z0-9 ]+", " ", _ascii(raw).lower()).strip())
    text = " ".join(_STREET_WORDS.get(w, w) for w in words if w)
    return text or None


def postcode_parts(raw: str) -> tuple[str | None, str | None]:
    """(postcode without spaces, upper-case; its district: a UK outward code or a US ZIP's first three digits)."""
    text = _SPACES.sub(" ", raw.strip().upper())
    if not text:
        return None, None
    if " " in text:
        district = text.split(" ", 1)[0]
    elif text[:5].isdigit():
        text = text[:5]
        district = text[:3]
    elif text.isdigit() and len(text) == 4:  # Australia, New Zealand, much of Europe: the first three digits
        district = text[:3]
    else:
        district = text[:-3] or text
    return text.replace(" ", ""), district


def phone_form(raw: Any, region: str) -> str | None:
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    # Identity stores phones in E.164 already; parsing costs ~20 µs, which a million records feel.
    return text if _E164.match(text) else normalize_phone(text, region)


def _text(raw: Any) -> str | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = str(raw)
    return raw.strip() or None if isinstance(raw, str) else None


def prepare(record: Mapping[str, Any], region: str = "US") -> dict[str, Any]:
    """A record's raw fields (FIELDS; missing keys are missing values) as the model's prepared columns."""
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    first = _text(record.get("first_name"))
    if first is not None and (form := name_form(first)) is not None:
        out["first_name"] = form
        out["first_name_metaphone"] = metaphone(form)
        out["first_name_forms"] = list(nickname_forms(form))
        out["first_initial"] = form[0]
    last = _text(record.get("last_name"))
    if last is not None and (form := name_form(last)) is not None:
        out["last_name"] = form
        out["last_name_metaphone"] = metaphone(form)
        out["last_initial"] = form[0]
    if out["first_name"] is not None and out["last_name"] is not None:
        # Both name sounds in either order, so first and last names swapped still meet in blocking.
        out["name_sounds"] = "|".join(sorted((out["first_name_metaphone"], out["last_name_metaphone"])))
        # Both initials in either order: swapped names with a typo that changes a sound still meet beside a birth date.
        out["initials"] = "".join(sorted((out["first_initial"], out["last_initial"])))
    dob = birth_date(record.get("date_of_birth"))
    if dob is not None:
        # Interned: a date is shared by thousands of records at a million, and each copy costs ~60 bytes.
        out["date_of_birth"] = sys.intern(dob)
        out["birth_year"] = sys.intern(dob[:4])
        month, day = sorted((dob[5:7], dob[8:10]))
        # equal when only day and month were swapped
        out["birth_date_unordered"] = sys.intern(f"{dob[:4]}-{month}-{day}")
    street = _text(record.get("street"))
    if street is not None:
        out["street"] = street_form(street)
    city = _text(record.get("city"))
    if city is not None:
        out["city"] = name_form(city)
    postcode = _text(record.get("postcode"))
    if postcode is not None:
        code, district = postcode_parts(postcode)
        out["postcode"] = None if code is None else sys.intern(code)
        out["postcode_district"] = None if district is None else sys.intern(district)
    if out["street"] is not None and out["postcode"] is not None:
        out["address"] = f"{out['street']}|{out['postcode']}"
    if out["street"] is not None or out["postcode"] is not None or out["city"] is not None:
        out["address_known"] = "yes"
    out["phone"] = phone_form(record.get("phone"), region)
    email = _text(record.get("email"))
    if email is not None and (normal := normalize_email(email)) is not None:
        out["email"] = normal
        out["email_local"] = normal.split("@", 1)[0]
    national_id = _text(record.get("national_id"))
    if national_id is not None:
        out["national_id"] = national_id_form(national_id)
    return out


def national_id_form(value: str) -> str | None:
    """A national id as matching compares it: letters and digits only, upper case (None when nothing is left)."""
    return re.sub(r"[^0-9A-Z]", "", value.upper()) or None
