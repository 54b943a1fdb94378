"""Find a customer: by any identifier (typed or bare), by a product's number, or by a name with typos (through
the real-time matcher when a model is trained, the plain name search before: `matching.lookup.find_by_name`, which
the profile search API calls too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.core.errors import NotFound
from seamline.identity.identifiers import Identifier
from seamline.identity.service import IdentityContext, parse_identifier, profile_holding, root_of
from seamline.matching.lookup import NameHit, find_by_name
from seamline.matching.realtime import Matcher
from seamline.profiles.service import display_names, profiles_holding_product

MAX_QUERY = 200
MAX_RESULTS = 20
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{6,}")
_HAS_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True, slots=True)
class FoundCustomer:
    profile_id: int
    label: str
    reason: str


def _guesses(text: str, context: IdentityContext) -> list[str]:
    """The identifiers a query may be: itself when typed (type:value), else what its shape suggests."""
    kind, sep, _value = text.partition(":")
    if sep and (kind in context.rules or kind.startswith("ext:")):
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
            found.setdefault(profile_holding(session, ident), f"{ident.type} {ident.value}")
        except (ValueError, NotFound):
            continue
    return found


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
    for profile_id in profiles_holding_product(session, text):
        found.setdefault(root_of(session, profile_id), f"product {text}")
    if _HAS_LETTER.search(text) and "@" not in text and ":" not in text:
        for hit in find_by_name(session, matcher, text, limit=limit):
            found.setdefault(hit.profile_id, name_reason(hit))
    ids = list(found)[:limit]
    shown = display_names(session, ids)
    return [FoundCustomer(pid, shown.get(pid, f"Profile #{pid} (no name on record)"), found[pid]) for pid in ids]
