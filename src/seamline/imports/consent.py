"""Consent columns of an import mapping: which column states which choice, and a row's cells as `Consent Updated`
messages. Pure: values in, values out.

A row's choices travel as the reserved `Consent Updated` track event, through the inbox and the worker like any
other consent: the worker knows which profile the row's person resolves to, records each choice as a new version
with the event as its provenance, refuses erased people, and replays it on unmerge. Writing the ledger from here
would need a second resolution path and would bypass all of that.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from seamline.consent.config import ConsentConfig
from seamline.consent.policy import DENIED, GRANTED
from seamline.consent.tracking import CONSENT_EVENT, consent_from_message
from seamline.core.errors import FieldError

SURFACE = "import"
# How source systems spell a choice; anything else in a consent column is a bad row, never a guess.
_WORDS = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "granted", "grant", "opt_in", "opted_in", "optin", "on"), GRANTED),
    **dict.fromkeys(("no", "n", "false", "f", "0", "denied", "deny", "opt_out", "opted_out", "optout", "off"), DENIED),
}


class ConsentColumn(BaseModel):
    """One choice a row may state: the column holding yes/no, and what the choice is about."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(min_length=1, description="Column holding the choice: yes/no, true/false, granted/denied…")
    purpose: str = Field(min_length=1)
    channel: str | None = None
    topic: str | None = None
    product: str | None = Field(default=None, description="A product id the choice is scoped to (a constant).")
    product_column: str | None = Field(default=None, description="Column holding the product id, per row.")
    at: str | None = Field(default=None, description="Column with when the choice was made; the section's otherwise.")
    evidence: list[str] = Field(default_factory=list, description="Columns copied into the evidence.")
    legal_basis: str | None = None


class ConsentMapping(BaseModel):
    """The mapping's `consent:` section: defaults for every choice, and the choices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    legal_basis: str | None = Field(default=None, description="Legal basis of every choice (one of the configured).")
    at: str | None = Field(default=None, description="Column with when the choices were made (ISO 8601).")
    evidence: list[str] = Field(default_factory=list, description="Columns copied into every choice's evidence.")
    actor: str | None = Field(default=None, description="Who the versions name as actor; 'import:SOURCE' if unset.")
    choices: list[ConsentColumn] = Field(min_length=1)

    def columns(self) -> set[str]:
        """Every column the section reads."""
        out = {c for c in (self.at, *self.evidence) if c is not None}
        for choice in self.choices:
            out.update(c for c in (choice.column, choice.product_column, choice.at, *choice.evidence) if c is not None)
        return out


def consent_value(value: Any) -> str | None:
    """granted, denied, or None when the cell states nothing; ValueError when it is not a choice."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return GRANTED if value else DENIED
    if isinstance(value, int | float) and value in (0, 1):
        return GRANTED if value == 1 else DENIED
    if isinstance(value, str):
        found = _WORDS.get(value.strip().lower().replace("-", "_").replace(" ", "_"))
        if found is not None:
            return found
        if not value.strip():
            return None
    raise ValueError(f"{value!r} is not a choice (yes/no, true/false, granted/denied, opt_in/opt_out, 1/0)")


def consent_time(value: Any) -> str | None:
    """An ISO 8601 time (a date alone is its midnight; no zone means UTC), or None when empty; ValueError if not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time") from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def consent_messages(
    row: Mapping[str, Any], section: ConsentMapping, person: Mapping[str, Any], source: str
) -> list[dict[str, Any]]:
    """One `Consent Updated` message per choice the row states; ValueError (with the column) for a bad cell."""
    out: list[dict[str, Any]] = []
    for choice in section.choices:
        try:
            value = consent_value(row.get(choice.column))
        except ValueError as exc:
            raise ValueError(f"consent column {choice.column!r}: {exc}") from None
        if value is None:
            continue  # the row does not state this choice
        at_column = choice.at or section.at
        try:
            at = consent_time(row.get(at_column)) if at_column is not None else None
        except ValueError as exc:
            raise ValueError(f"consent time column {at_column!r}: {exc}") from None
        product = choice.product
        if choice.product_column is not None:
            cell = row.get(choice.product_column)
            product = str(cell).strip() if cell not in (None, "") and not isinstance(cell, bool) else None
        properties: dict[str, Any] = {
            "purpose": choice.purpose,
            "channel": choice.channel,
            "topic": choice.topic,
            "product": product,
            "value": value,
            "legal_basis": choice.legal_basis or section.legal_basis,
            "actor": section.actor or f"import:{source}",
            "surface": SURFACE,
        }
        evidence = {c: row.get(c) for c in (*section.evidence, *choice.evidence) if row.get(c) not in (None, "")}
        if evidence:
            properties["evidence"] = evidence
        message: dict[str, Any] = {
            "type": "track",
            "event": CONSENT_EVENT,
            **person,
            "properties": {k: v for k, v in properties.items() if v is not None},
        }
        if at is not None:
            message["timestamp"] = at
        out.append(message)
    return out


def check_section(section: ConsentMapping, config: ConsentConfig) -> list[FieldError]:
    """What the consent configuration refuses in the section (a purpose, channel, topic or basis not configured)."""
    errors: list[FieldError] = []
    for index, choice in enumerate(section.choices):
        probe = consent_messages({choice.column: GRANTED}, section.model_copy(update={"choices": [choice]}), {}, "x")
        for error in consent_errors(probe[0], config):
            name = error.field.removeprefix("properties.")
            errors.append(FieldError(f"consent.choices.{index}.{name}", error.code, error.message, index))
    return errors


def consent_errors(message: Mapping[str, Any], config: ConsentConfig) -> list[FieldError]:
    """What the worker would refuse in a consent message, checked before anything is written."""
    return list(consent_from_message(message, config=config).errors)
