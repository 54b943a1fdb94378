"""Find a customer: by any identifier (typed or bare), by a product's number, or by a name with typos.

One function, `find_customers`, so the matcher can replace the plain name search when it lands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.core.errors import NotFound
from seamline.identity.identifiers import Identifier
from seamline.identity.service import IdentityContext, parse_identifier, profile_holding, root_of
from seamline.profiles.service import display_names, find_by_name, profiles_holding_product

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


def find_customers(
    session: Session, query: str, context: IdentityContext, *, limit: int = MAX_RESULTS
) -> list[FoundCustomer]:
    """Customers matching a query, exact identifier and product matches first, then names by closeness."""
    text = query.strip()[:MAX_QUERY]
    if not text:
        return []
    found = _by_identifier(session, text, context)
    for profile_id in profiles_holding_product(session, text):
        found.setdefault(root_of(session, profile_id), f"product {text}")
    if _HAS_LETTER.search(text) and "@" not in text and ":" not in text:
        for match in find_by_name(session, text, limit=limit):
            found.setdefault(match.profile_id, f"name {match.names[0]} ({match.score:.0f}% alike)")
    ids = list(found)[:limit]
    shown = display_names(session, ids)
    return [FoundCustomer(pid, shown.get(pid, f"Profile #{pid} (no name on record)"), found[pid]) for pid in ids]
