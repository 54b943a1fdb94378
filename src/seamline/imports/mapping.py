"""The import mapping (which columns say what) and one row turned into Segment messages. Pure: values in, values out.

A row becomes one `identify`, one `group` per holding and one `Consent Updated` per choice it states. Every
message id is a digest of the source, the record key, the kind and the content, so importing an unchanged row
again appends nothing (the inbox is idempotent on message id) and a changed row appends new messages, which the
worker records with the new import's provenance.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from seamline.core.errors import FieldError, InvalidInput
from seamline.imports.consent import ConsentMapping, consent_messages
from seamline.imports.dates import BIRTH_DATE_TRAITS, DateFormat, describe, parse_date

FORMATS = ("csv", "jsonl", "parquet")
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
# Where in the evidence of an imported consent choice the file (or query) and its line (or row) are named.
ORIGIN_KEY = "import"
# Identifier types Segment spells as traits or as userId; every other type travels as context.externalIds.
TRAIT_IDENTIFIERS = ("email", "phone")
USER_ID = "user_id"
# A trait's source may be a template of columns: "{street_number} {address_1}".
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class HoldingColumns(BaseModel):
    """One product a row may report: its holding type (a constant) and the columns of its number, status, opening
    date and balance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, description="Column holding the account or product number.")
    status: str | None = Field(default=None, description="Column holding the status; 'active' when absent.")
    opened: str | None = Field(default=None, description="Column holding the date it was opened (ISO 8601).")
    balance: str | None = Field(default=None, description="Column holding its balance (a number).")

    def columns(self) -> set[str]:
        """The columns this product reads."""
        return {c for c in (self.id, self.status, self.opened, self.balance) if c is not None}


class ImportMapping(BaseModel):
    """What each column of a file means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["csv", "jsonl", "parquet"] | None = None
    record_key: str = Field(min_length=1, description="Column with the source's own id for the row.")
    identifiers: dict[str, str] = Field(default_factory=dict, description="Identifier type → column.")
    traits: dict[str, str] = Field(
        default_factory=dict, description='Trait name → column, or a template of columns: "{number} {street}".'
    )
    dates: dict[str, DateFormat] = Field(
        default_factory=dict,
        description="Trait name → how its dates are written: iso, yyyymmdd, day-first, month-first (or auto).",
    )
    holdings: list[HoldingColumns] = Field(default_factory=list)
    consent: ConsentMapping | None = None

    @model_validator(mode="after")
    def _dates_are_traits(self) -> ImportMapping:
        unknown = sorted(set(self.dates) - set(self.traits))
        if unknown:
            raise ValueError(f"dates names traits the mapping does not map: {', '.join(unknown)}")
        return self

    def columns(self) -> set[str]:
        """Every column the mapping reads."""
        holding_columns = {c for h in self.holdings for c in h.columns()}
        consent_columns = self.consent.columns() if self.consent is not None else set()
        trait_columns = {c for source in self.traits.values() for c in template_columns(source)}
        return {self.record_key, *self.identifiers.values(), *trait_columns, *holding_columns, *consent_columns}

    def date_format(self, trait: str) -> DateFormat | None:
        """How the trait's dates are written: declared, else "auto" for a birth date, else not a date."""
        return self.dates.get(trait) or ("auto" if trait in BIRTH_DATE_TRAITS else None)

    def format_for(self, path: Path) -> str:
        """The file's format: the mapping's, else the file's suffix."""
        if self.format is not None:
            return self.format
        found = _SUFFIXES.get(path.suffix.lower())
        if found is None:
            raise InvalidInput(
                [FieldError("format", "unknown", f"say format: csv, jsonl or parquet; {path.name!r} does not tell")],
                "the file format is unknown",
            )
        return found


def load_mapping(text: str) -> ImportMapping:
    """A mapping from its YAML text, or InvalidInput naming each problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput([FieldError("mapping", "invalid_yaml", str(exc))], "the mapping is not valid YAML") from None
    try:
        return ImportMapping.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "mapping", e["type"], e["msg"]) for e in exc.errors()
        ]
        raise InvalidInput(errors, "the mapping is not valid") from None


class RowProblem(Exception):
    """A row that cannot be imported, and why: every reason it has, the first as `reason`."""

    def __init__(self, line: int, reason: str, *more: str) -> None:
        super().__init__(f"line {line}: {'; '.join((reason, *more))}")
        self.line = line
        self.reason = reason
        self.reasons = (reason, *more)


def missing_columns(header: Sequence[str], mapping: ImportMapping) -> list[str]:
    """Columns the mapping names that the file's header lacks."""
    present = set(header)
    return sorted(c for c in mapping.columns() if c not in present)


def _text(value: Any) -> str | None:
    """A cell as an identifier: None when empty; numbers as their digits."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | str):
        return str(value).strip() or None
    return None


def _present(value: Any) -> bool:
    return value is not None and value != ""


def _product_details(row: Mapping[str, Any], holding: HoldingColumns, line: int) -> dict[str, Any]:
    """The opening date and balance a row gives its product (as `opened_at` and `balance` of the holding)."""
    details: dict[str, Any] = {}
    if holding.opened is not None:
        opened = _text(row.get(holding.opened))
        if opened is not None:
            try:
                details["opened_at"] = date.fromisoformat(opened[:10]).isoformat()
            except ValueError:
                raise RowProblem(
                    line, f"opening date (column {holding.opened!r}) must be a date like 2024-03-31, not {opened!r}"
                ) from None
    if holding.balance is not None:
        raw = row.get(holding.balance)
        if _present(raw):
            balance = _number(raw)
            if balance is None:
                raise RowProblem(line, f"balance (column {holding.balance!r}) must be a number, not {raw!r}")
            details["balance"] = balance
    return details


def _number(value: Any) -> int | float | None:
    """A cell as a finite number ('1,234.50' reads as 1234.5), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value) if isinstance(value, float) else float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def template_columns(source: str) -> list[str]:
    """The columns a trait's source reads: the placeholders of a template, else the column itself."""
    names = _PLACEHOLDER.findall(source)
    return [n.strip() for n in names] if names else [source]


def fill_template(source: str, row: Mapping[str, Any]) -> Any:
    """A trait's value from its row: the column's cell, or the template with each placeholder's cell (a missing
    cell leaves its placeholder out; None when every one is missing)."""
    if not _PLACEHOLDER.search(source):
        return row.get(source)
    found = False

    def cell(match: re.Match[str]) -> str:
        nonlocal found
        text = _text(row.get(match.group(1).strip())) or ""
        found = found or bool(text)
        return text

    filled = " ".join(_PLACEHOLDER.sub(cell, source).split())
    return filled if found and filled else None


def trait_value(row: Mapping[str, Any], mapping: ImportMapping, trait: str, line: int) -> Any:
    """A trait's value in a row (a date read into ISO), or RowProblem naming the line and column."""
    source = mapping.traits[trait]
    value = fill_template(source, row)
    fmt = mapping.date_format(trait)
    if fmt is None or not _present(value):
        return value
    parsed = parse_date(str(value), fmt) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if parsed is None:
        raise RowProblem(
            line, f"column {source!r} ({trait}): {str(value)[:40]!r} is not a date written {describe(fmt)}"
        )
    return parsed


def row_to_messages(
    row: Mapping[str, Any],
    mapping: ImportMapping,
    line: int,
    source: str,
    origin: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One `identify`, one `group` per holding and one `Consent Updated` per choice the row states; RowProblem when
    the row cannot be imported, with every reason. `origin` (the file or query, and the position's name) goes into
    consent evidence.
    """
    problems: list[str] = []
    key = _text(row.get(mapping.record_key))
    if key is None:
        problems.append(f"the record key column {mapping.record_key!r} is empty")
        key = ""
    person: dict[str, Any] = {"anonymousId": f"{source}:{key}"}
    traits: dict[str, Any] = {}
    external_ids: list[dict[str, str]] = []
    for kind, column in mapping.identifiers.items():
        raw = row.get(column)
        value = _text(raw)
        if value is None:
            if _present(raw):
                problems.append(f"identifier {kind!r} (column {column!r}) must be text or a number")
            continue
        if kind == USER_ID:
            person["userId"] = value
        elif kind in TRAIT_IDENTIFIERS:
            traits[kind] = value
        else:
            external_ids.append({"id": value, "type": kind, "collection": "users", "encoding": "none"})
    for name in mapping.traits:
        try:
            value = trait_value(row, mapping, name, line)
        except RowProblem as problem:  # every problem of the row is reported, not only the first
            problems.extend(problem.reasons)
            continue
        if _present(value):
            traits[name] = value
    identify: dict[str, Any] = {"type": "identify", **person, "traits": traits}
    if external_ids:
        identify["context"] = {"externalIds": external_ids}
    messages = [identify]
    for holding in mapping.holdings:
        raw_id = row.get(holding.id)
        holding_id = _text(raw_id)
        if holding_id is None:
            if _present(raw_id):
                problems.append(f"holding id (column {holding.id!r}) must be text or a number")
            continue  # this row does not hold the product
        group_traits: dict[str, Any] = {"holding_type": holding.type}
        status = _text(row.get(holding.status)) if holding.status is not None else None
        if status is not None:
            group_traits["status"] = status
        group_traits.update(_product_details(row, holding, line))
        messages.append({"type": "group", **person, "groupId": holding_id, "traits": group_traits})
    if mapping.consent is not None:
        try:
            messages.extend(consent_messages(row, mapping.consent, person, source))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise RowProblem(line, *problems)
    for message in messages:
        message["messageId"] = message_id(source, key, message)
        if origin is not None and message["type"] == "track":
            # After the id: where a choice was read is evidence, not content, so the same choice read again from
            # another file (or another line) is the same message and adds no version.
            where = {k: v for k, v in origin.items() if k != "unit"}
            evidence = message["properties"].setdefault("evidence", {})
            evidence[ORIGIN_KEY] = {**where, str(origin.get("unit", "line")): line}
    return messages


def message_id(source: str, record_key: str, message: Mapping[str, Any]) -> str:
    """A digest of who sent it, for which record, what kind and what it says: the same row, the same id."""
    content = orjson.dumps(
        [source, record_key, message["type"], {k: v for k, v in message.items() if k != "messageId"}],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(content).hexdigest()
