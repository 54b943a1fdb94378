"""Typed identifiers: extracted from a message by the configured paths, normalized, placeholders refused.

Pure and cached: the same raw values recur constantly in a stream, and email and phone parsing cost 10-20 µs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from seamline.core.forgetting import register, register_holder
from seamline.identity.rules import IdentifierRule, IdentityConfig

MEMO_SIZE = 200_000


class Identifier(NamedTuple):
    """A normalized value of one identifier type, e.g. Identifier("email", "ada@example.com").

    A named tuple rather than a frozen dataclass: identifiers are the keys of every map resolution builds, and a
    tuple hashes and compares in C (a dict lookup took 165 ns with the dataclass, 40 ns with the tuple).
    """

    type: str
    value: str

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Identifier:
        """'type:value' → Identifier; the value may itself contain colons. An external system's id is typed
        'ext:<system>:value' (as it is stored: type 'ext:<system>')."""
        if text.startswith("ext:"):
            system, sep, value = text[4:].partition(":")
            if not sep or not system or not value:
                raise ValueError(f"{text!r} is not of the form ext:system:value")
            return cls(f"ext:{system}", value)
        type_, sep, value = text.partition(":")
        if not sep or not type_ or not value:
            raise ValueError(f"{text!r} is not of the form type:value")
        return cls(type_, value)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A value that was not used as an identifier, and why."""

    type: str
    raw: str
    reason: str


# The shape nearly every address has: a dot-atom local part of letters, digits, `_+-`, and a domain of letters,
# digits and single hyphens under an alphabetic top-level domain. For such an address email_validator's normalized
# form is the lower-cased address itself (tests/identity/test_email_shape.py checks the two agree); taking it from
# here spares its ~25-30 µs of CPU for each address new to the process (every lookup of another customer).
_PLAIN_EMAIL = re.compile(r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:-?[a-z0-9])*\.)+[a-z]{2,63}", re.ASCII)
_LOCAL_PART_MAX, _EMAIL_MAX, _LABEL_MAX = 64, 254, 63  # email_validator's limits (RFC 5321, RFC 1035)


def _plainly_valid(candidate: str) -> bool:
    """Whether a lower-cased, trimmed address is of the plain shape and within every limit email_validator sets."""
    if len(candidate) > _EMAIL_MAX or _PLAIN_EMAIL.fullmatch(candidate) is None:
        return False
    local, _, domain = candidate.partition("@")
    if len(local) > _LOCAL_PART_MAX or any(len(label) > _LABEL_MAX for label in domain.split(".")):
        return False
    from email_validator import SPECIAL_USE_DOMAIN_NAMES  # read each time: the library lets callers change it

    return not any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAIN_NAMES)


@lru_cache(maxsize=200_000)
def normalize_email(raw: str) -> str | None:
    """Trimmed, lower-cased, syntactically valid email, or None."""
    candidate = raw.strip().lower()
    if "@" not in candidate:
        return None
    if _plainly_valid(candidate):
        return candidate
    # Imported at the first email, not with the module: every command that reads the graph (and the repository,
    # for Identifier) imports this module, and email_validator and phonenumbers cost a CLI start ~0.05 s each.
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(candidate, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


@lru_cache(maxsize=200_000)
def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 form of a valid phone number, or None."""
    import phonenumbers  # at the first phone number (see normalize_email)

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


register(normalize_email.cache_clear)
register(normalize_phone.cache_clear)


class _Blocklist:
    def __init__(self, entries: list[str]) -> None:
        self.exact = {e.lower() for e in entries if not e.startswith("re:")}
        self.patterns = [re.compile(e[3:], re.IGNORECASE) for e in entries if e.startswith("re:")]

    def blocks(self, value: str) -> bool:
        lowered = value.strip().lower()
        return lowered in self.exact or any(p.search(lowered) for p in self.patterns)


def _lookup(message: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = message
    for part in path:
        # Parsed JSON is made of dicts: the exact-type test spares the ABC check (a third of extraction's time).
        if type(node) is not dict and not isinstance(node, Mapping):
            return None
        node = node.get(part)
        if node is None:
            return None
    return node


class IdentifierExtractor:
    """Extracts a message's identifiers by the configured rules (build once, call per message)."""

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.rules: dict[str, IdentifierRule] = {rule.type: rule for rule in config.identifiers}
        # Paths grouped by their first key: most messages lack traits or properties, so one miss skips a group.
        self._plan: dict[str, list[tuple[IdentifierRule, tuple[str, ...]]]] = {}
        for rule in config.identifiers:
            for path in rule.paths:
                head, *rest = path.split(".")
                self._plan.setdefault(head, []).append((rule, tuple(rest)))
        self._external = {rule.external_id_type: rule for rule in config.identifiers if rule.external_id_type}
        self._blocklists = {rule.type: _Blocklist(rule.blocked) for rule in config.identifiers}
        self._generic_blocklist = _Blocklist(IdentifierRule(type="ext", priority=0).blocked)
        self._memo: dict[tuple[str, str | int | float], Identifier | str] = {}
        register_holder(self)

    def forget(self) -> None:
        """Empty the memo of raw values (an erasure forgets them; see core.forgetting)."""
        self._memo.clear()

    def rule(self, identifier_type: str) -> IdentifierRule:
        """The rule of a type; unknown external id types get a generic unique rule."""
        known = self.rules.get(identifier_type)
        return known if known is not None else IdentifierRule(type=identifier_type, priority=40)

    def normalize(self, rule: IdentifierRule, raw: Any) -> str | None:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            return None
        text = str(raw).strip()
        if not text:
            return None
        if rule.kind == "email":
            return normalize_email(text)
        if rule.kind == "phone":
            return normalize_phone(text, self.config.default_region)
        return text if rule.case_sensitive else text.lower()

    def extract(self, message: Mapping[str, Any]) -> tuple[list[Identifier], list[Refusal]]:
        """The message's distinct identifiers, strongest first, and the values refused."""
        found: dict[Identifier, int] = {}
        refused: list[Refusal] = []
        for head, entries in self._plan.items():
            node = message.get(head)
            if node is None:
                continue
            for rule, rest in entries:
                raw = _lookup(node, rest) if rest else node
                if raw is not None:
                    self._consider(rule, raw, self._blocklists[rule.type], found, refused)
        external = _lookup(message, ("context", "externalIds"))
        if isinstance(external, list):
            for item in external:
                if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
                    continue
                external_rule = self._external.get(item["type"])
                if external_rule is not None:
                    blocklist = self._blocklists[external_rule.type]
                    self._consider(external_rule, item.get("id"), blocklist, found, refused)
                elif self.config.accept_unknown_external_ids:
                    generic = self.rule(f"ext:{item['type']}")
                    self._consider(generic, item.get("id"), self._generic_blocklist, found, refused)
        return sorted(found, key=lambda i: (found[i], i)), refused

    def _consider(
        self,
        rule: IdentifierRule,
        raw: Any,
        blocklist: _Blocklist,
        found: dict[Identifier, int],
        refused: list[Refusal],
    ) -> None:
        if type(raw) is not str and (isinstance(raw, bool) or not isinstance(raw, str | int | float)):
            refused.append(Refusal(rule.type, str(raw)[:200], "invalid"))
            return
        key = (rule.type, raw)
        decided = self._memo.get(key)
        if decided is None:
            decided = self._decide(rule, raw, blocklist)
            if len(self._memo) >= MEMO_SIZE:  # a stream repeats recent values; an old one is cheap to redo
                self._memo.clear()
            self._memo[key] = decided
        if isinstance(decided, Identifier):
            found.setdefault(decided, rule.priority)
        else:
            refused.append(Refusal(rule.type, str(raw)[:200], decided))

    def _decide(self, rule: IdentifierRule, raw: str | int | float, blocklist: _Blocklist) -> Identifier | str:
        """The identifier a raw value makes, or the reason it makes none."""
        if blocklist.blocks(str(raw)):
            return "blocked_value"
        value = self.normalize(rule, raw)
        if value is None:
            return "invalid"
        if blocklist.blocks(value):
            return "blocked_value"
        return Identifier(rule.type, value)
