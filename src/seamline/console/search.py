"""Find a customer: by any identifier (typed or bare), by any product system's customer number, by a product's
number, or by a name with typos (through the real-time matcher when a model is trained, the plain name search
before: `matching.lookup.find_by_name`, which the profile search API calls too). Each result says which field
matched, and shows what tells namesakes apart: the birth date, the postcode and the city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.identity.identifiers import Identifier
from seamline.identity.service import (
    IdentityContext,
    external_id_holders,
    parse_identifier,
    profiles_holding,
    root_of,
)
from seamline.matching.lookup import NameHit, find_by_name
from seamline.matching.realtime import Matcher
from seamline.profiles.service import display_names, golden_values, products_numbered
from seamline.profiles.vocabulary import ADDRESS
from seamline.sources.service import list_sources

MAX_QUERY = 200
MAX_RESULTS = 20
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{6,}")
_HAS_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class FoundCustomer:
    profile_id: int
    label: str
    reason: str  # the field that matched, and its value
    details: tuple[str, ...] = ()  # what tells namesakes apart: birth date, postcode, city


def _field_name(identifier_type: str) -> str:
    """An identifier type in an agent's words: 'ext:checking_customer' → 'checking_customer number'."""
    if identifier_type.startswith("ext:"):
        return f"{identifier_type[4:]} number"
    return identifier_type.replace("_", " ")


def _guesses(text: str, context: IdentityContext) -> list[str]:
    """The identifiers a query may be: itself when typed (type:value), else what its shape suggests."""
    kind, sep, _value = text.partition(":")
    if sep and (kind in context.rules or kind == "ext"):
        return [text]
    if "@" in text:
        return [f"email:{text}"]
    guesses = [f"{t}:{text}" for t, rule in context.rules.items() if rule.kind == "plain" and not rule.is_shareable]
    if _PHONE_LIKE.fullmatch(text):
        guesses.insert(0, f"phone:{text}")
    return guesses


def _by_identifier(session: Session, text: str, context: IdentityContext) -> dict[int, str]:
    found: dict[int, str] = {}
    for guess in _guesses(text, context):
        try:
            ident: Identifier = parse_identifier(guess, context)
        except ValueError:
            continue
        for profile_id in profiles_holding(session, ident, limit=MAX_RESULTS):
            found.setdefault(profile_id, f"{_field_name(ident.type)} {ident.value}")
    if ":" not in text:
        for ident, profile_id in external_id_holders(session, text, limit=MAX_RESULTS):
            found.setdefault(profile_id, f"{_field_name(ident.type)} {ident.value}")
    return found


def _details(session: Session, profile_ids: list[int], matcher: Matcher) -> dict[int, tuple[str, ...]]:
    """Per profile, what tells namesakes apart: its birth date, postcode and city (the golden record's)."""
    if not profile_ids:
        return {}
    names = {s.id: s.name for s in list_sources(session)}
    golden = golden_values(session, ["birthday", ADDRESS], names, matcher.ctx.survivorship, profile_ids)
    out: dict[int, tuple[str, ...]] = {}
    for profile_id, values in golden.items():
        address = values.get(ADDRESS)
        parts = [f"born {values['birthday']}" if values.get("birthday") else ""]
        if isinstance(address, dict):
            parts += [str(address.get("postal_code") or ""), str(address.get("city") or "")]
        out[profile_id] = tuple(p for p in parts if p)
    return out


def name_reason(hit: NameHit) -> str:
    """Why a name search listed a profile, in the agent's words."""
    if hit.method == "matcher":
        # The probability of a bare name is no measure of a search hit (a common name is a weak match): the levels
        # say how the name was found.
        return f"name: {', '.join(hit.matched)}"
    return f"name {hit.matched[0]} ({hit.score:.0f}% alike)"


def find_customers(
    session: Session, query: str, context: IdentityContext, matcher: Matcher, *, limit: int = MAX_RESULTS
) -> list[FoundCustomer]:
    """Customers matching a query, exact identifier and product matches first, then names by closeness."""
    text = query.strip()[:MAX_QUERY]
    if not text:
        return []
    found = _by_identifier(session, text, context)
    for profile_id, product in products_numbered(session, text):
        found.setdefault(root_of(session, profile_id), f"{product.replace('_', ' ')} number {text}")
    if _HAS_LETTER.search(text) and "@" not in text and ":" not in text:
        for hit in find_by_name(session, matcher, text, limit=limit):
            found.setdefault(hit.profile_id, name_reason(hit))
    ids = list(found)[:limit]
    shown = display_names(session, ids)
    details = _details(session, ids, matcher)
    return [
        FoundCustomer(pid, shown.get(pid, f"Profile #{pid} (no name on record)"), found[pid], details.get(pid, ()))
        for pid in ids
    ]
