"""An accepted match as an event on the log. Pure: two profiles' identifiers in, one Segment message out.

A match merges nothing itself. It is written as an `identify` from the matching source that carries one
identifier of each profile and `context.match` (model version, score, match id); the worker resolves it like any
event, so the merge goes through the identity graph's rules and guards (two national ids never merge), its record
points at this event, and unmerge and rebuild replay it like any other. The message states no traits: its
identifiers travel in `context.traits`, `context.externalIds` or the top-level ids, and `traits` is empty, so the
golden record gains nothing from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from seamline.identity.rules import IdentifierRule

USER_ID = "user_id"
ANONYMOUS_ID = "anonymous_id"


def _carriers(ident_type: str, rules: Mapping[str, IdentifierRule]) -> list[str]:
    """Where an identifier of this type can travel without becoming a trait: paths, or 'externalIds'."""
    if ident_type.startswith("ext:"):
        return ["externalIds"]
    rule = rules.get(ident_type)
    if rule is None:
        return []
    paths = [p for p in rule.paths if p == "userId" or p.startswith(("context.traits.", "properties."))]
    return [*paths, "externalIds"] if rule.external_id_type else paths


def chosen_identifier(links: Sequence[tuple[str, str]], rules: Mapping[str, IdentifierRule]) -> tuple[str, str] | None:
    """The identifier that names a profile in a match event: its strongest non-shareable one that can travel,
    else its anonymous id (a profile known only by devices is joined by the anonymous stitch)."""

    def strength(link: tuple[str, str]) -> tuple[int, str, str]:
        rule = rules.get(link[0])
        return (rule.priority if rule else 40, link[0], link[1])

    strong = [
        link
        for link in links
        if not (rules.get(link[0]) is not None and rules[link[0]].is_shareable) and _carriers(link[0], rules)
    ]
    if strong:
        return min(strong, key=strength)
    anonymous = sorted(link for link in links if link[0] == ANONYMOUS_ID)
    return anonymous[0] if anonymous else None


def match_message(
    match: Mapping[str, Any],
    left: tuple[str, str],
    right: tuple[str, str],
    rules: Mapping[str, IdentifierRule],
    anonymous_ids: Sequence[str],
) -> dict[str, Any]:
    """The identify message that asks the identity graph to merge two profiles, one identifier of each."""
    context: dict[str, Any] = {"match": dict(match), "traits": {}}
    message: dict[str, Any] = {
        "type": "identify",
        "traits": {},
        "context": context,
        "messageId": f"match-{match['match_id']}",
    }
    external: list[dict[str, str]] = []
    for ident_type, value in (left, right):
        if ident_type == ANONYMOUS_ID:
            # The rule reads anonymous ids from anonymousId and previousId: room for both sides.
            message["previousId" if "anonymousId" in message else "anonymousId"] = value
            continue
        for carrier in _carriers(ident_type, rules):
            if carrier == "externalIds":
                rule = rules.get(ident_type)
                kind = rule.external_id_type if rule is not None and rule.external_id_type else ident_type[4:]
                external.append({"id": value, "type": kind, "collection": "users", "encoding": "none"})
                break
            if _put(message, carrier, value):
                break
    if external:
        context["externalIds"] = external
    if "userId" not in message and "anonymousId" not in message:
        # The wire format needs one; an anonymous id the profiles already hold adds nothing to them.
        message["anonymousId"] = anonymous_ids[0] if anonymous_ids else f"match:{match['match_id']}"
    return message


def _put(message: dict[str, Any], path: str, value: str) -> bool:
    """Set a dotted path unless something is there already (the other side's identifier of the same type)."""
    *parents, leaf = path.split(".")
    node = message
    for part in parents:
        node = node.setdefault(part, {})
    if leaf in node:
        return False
    node[leaf] = value
    return True
