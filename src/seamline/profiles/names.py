"""Names for the console's search: folding, index keys and typo-tolerant scoring. Pure.

Candidates are looked up by the first three letters of a trait value's first word and the last three letters of
its last word (two expression indexes on profile_traits), then scored with rapidfuzz: a misspelling still finds
the person when one end of one name part is right. The matcher will replace this with its own blocking.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

NAME_TRAITS = ("name", "first_name", "last_name", "firstName", "lastName", "full_name", "fullName")
KEY_LETTERS = 3
_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


def fold(text: str) -> str:
    """Lower case without accents: 'Zoë O'Brien' → "zoe o'brien"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """The folded words of a name."""
    return _WORD.findall(fold(text))


def _spellings(word: str) -> set[str]:
    # The database lower-cases values its own way (SQLite only ASCII), so keys come in each plausible spelling.
    return {word, word.lower(), "".join(c.lower() if c.isascii() else c for c in word), fold(word)}


def lookup_keys(query: str) -> tuple[set[str], set[str]]:
    """Head keys ('"smi') and tail keys ('ith"') of every word of a query, matching the stored JSON's ends."""
    heads: set[str] = set()
    tails: set[str] = set()
    for raw in _WORD.findall(query):
        if len(raw) < KEY_LETTERS:
            continue
        for word in _spellings(raw):
            heads.add('"' + word[:KEY_LETTERS])
            tails.add(word[-KEY_LETTERS:] + '"')
    return heads, tails


def score(query: str, names: Iterable[str]) -> float:
    """How well a person's names match the query, 0-100: each query word against its best-matching name word."""
    wanted = words(query)
    held = {w for name in names for w in words(name)}
    if not wanted or not held:
        return 0.0
    return sum(max(fuzz.ratio(w, h) for h in held) for w in wanted) / len(wanted)
