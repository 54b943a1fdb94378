"""Find customers by a name someone typed or said, through the real-time matcher when a model is trained, and the
plain name search before (or when the matcher finds nobody). The console's find and the profile search API both
call `find_by_name`, so they answer alike.

The query is read as a person would write it: words with letters are the name (one word is the last name; two
or more are the first and the last; "Last, First" with a comma), a date (YYYY-MM-DD) the date of birth, a run of
digits long enough the phone. The matcher then blocks on name sounds (and on the birth date or phone when given)
and scores with the model's levels, so a typo, a transposition, a nickname or a name that sounds alike is found
where the plain search needs three right letters at one end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from seamline.matching.model import model_versions
from seamline.matching.realtime import Candidate, Matcher, match_record
from seamline.profiles.service import find_by_name as plain_find_by_name

NAME_FIELDS = ("first_name", "last_name")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{4,}\d")
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-])*")  # letters, with O'Brien's apostrophe and a hyphen


@dataclass(frozen=True, slots=True)
class NameHit:
    """A profile found by name: how alike (0-100: the match probability, or the plain search's closeness), how it
    was found, and why in words (each name field's level, or the names it holds)."""

    profile_id: int
    score: float
    method: Literal["matcher", "plain"]
    matched: tuple[str, ...]


def query_record(query: str) -> dict[str, str]:
    """The matching record a free-text query stands for (empty when it holds no name)."""
    record: dict[str, str] = {}
    rest = query
    date = _DATE.search(rest)
    if date:
        record["date_of_birth"] = date.group()
        rest = rest[: date.start()] + " " + rest[date.end() :]
    phone = _PHONE.search(rest)
    if phone:
        record["phone"] = phone.group()
        rest = rest[: phone.start()] + " " + rest[phone.end() :]
    if "," in rest:  # "Lovelace, Ada"
        last_part, _, first_part = rest.partition(",")
        last_words, first_words = _WORD.findall(last_part), _WORD.findall(first_part)
        if last_words:
            record["last_name"] = " ".join(last_words)
        if first_words:
            record["first_name"] = first_words[0]
    else:
        words = _WORD.findall(rest)
        if len(words) == 1:
            record["last_name"] = words[0]
        elif len(words) > 1:
            record["first_name"], record["last_name"] = words[0], words[-1]
    if not any(f in record for f in NAME_FIELDS):
        return {}
    return {k: v[:200] for k, v in record.items()}


def _agrees(candidate: Candidate, given: set[str]) -> bool:
    """Every name field the query gave met a level (exact, nickname, one typo, sounds alike, similar spelling).

    Not "its weight is positive": a model may weigh a level against a match (trained on silo typos, "sounds alike"
    last names are rarer among true pairs than among random ones), yet a name that sounds as the agent heard it is
    exactly what a search by ear should list; the weight still ranks it below closer spellings.
    """
    return all(f.level not in ("differs", "missing") for f in candidate.fields if f.field in given)


def _reasons(candidate: Candidate, record: dict[str, str]) -> tuple[str, ...]:
    return tuple(
        f"{f.field.replace('_', ' ')} {f.level}" for f in candidate.fields if f.field in record and f.level != "missing"
    )


def has_model(matcher: Matcher) -> bool:
    """Whether a model is trained (cheap: the index's model, else a look at the model folder)."""
    return matcher.index.model is not None or bool(model_versions(matcher.ctx.model_dir))


def find_by_name(session: Session, matcher: Matcher, query: str, *, limit: int = 20) -> list[NameHit]:
    """Profiles a (possibly misspelt) name stands for, best first: the matcher's candidates whose names agree,
    when a model exists and it finds any; else the plain name search."""
    record = query_record(query)
    if record and has_model(matcher):
        given = {f for f in NAME_FIELDS if f in record}
        found = match_record(session, matcher.ctx, matcher.index, record, limit=min(max(limit, 1), 100))
        hits = [
            NameHit(c.profile_id, round(c.probability * 100, 1), "matcher", _reasons(c, record))
            for c in found
            if _agrees(c, given)
        ]
        if hits:
            return hits[:limit]
    return [NameHit(m.profile_id, m.score, "plain", m.names) for m in plain_find_by_name(session, query, limit=limit)]
