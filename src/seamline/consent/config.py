"""Consent configuration: purposes, channels, topics, document types and the values that apply when nobody chose."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, model_validator

ConsentValue = Literal["granted", "denied"]
DeliveryValue = Literal["paper", "electronic"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _default_consent() -> dict[str, ConsentValue]:
    # Marketing, personalization and profiling are opt-in; service messages and analytics need no opt-in.
    return {
        "service": "granted",
        "marketing": "denied",
        "analytics": "granted",
        "personalization": "denied",
        "profiling": "denied",
    }


def _names(kind: str, values: list[str]) -> list[str]:
    if not values:
        raise ValueError(f"at least one of {kind} is needed")
    bad = [v for v in values if not _NAME.fullmatch(v)]
    if bad:
        raise ValueError(f"{kind} must be lowercase names (a-z, 0-9, _; at most 32 characters): {bad}")
    if len(set(values)) != len(values):
        raise ValueError(f"{kind} are listed twice: {sorted({v for v in values if values.count(v) > 1})}")
    return values


class ConsentConfig(BaseModel):
    """The consent section of the configuration (`[consent]` in the TOML file)."""

    purposes: list[str] = Field(
        default_factory=lambda: ["service", "marketing", "analytics", "personalization", "profiling"]
    )
    channels: list[str] = Field(default_factory=lambda: ["email", "sms", "push", "phone", "postal", "in_app", "web"])
    topics: list[str] = Field(default_factory=lambda: ["offers", "product_news"])
    document_types: list[str] = Field(default_factory=lambda: ["statements", "notices", "tax_forms"])
    defaults: dict[str, ConsentValue] = Field(
        default_factory=_default_consent,
        description="Per purpose, the value when nobody chose; a purpose missing here is opt-in (denied).",
    )
    default_delivery: DeliveryValue = Field(
        default="paper", description="How documents are delivered when nobody chose; paper is the legal default."
    )
    legal_bases: list[str] = Field(
        default_factory=lambda: [
            "consent",
            "contract",
            "legal_obligation",
            "vital_interests",
            "public_task",
            "legitimate_interests",
        ],
        description="Legal bases a choice may name (GDPR article 6 by default).",
    )
    segment_categories: dict[str, str] = Field(
        default_factory=lambda: {"Advertising": "marketing", "Analytics": "analytics", "Functional": "personalization"},
        description="Segment consent categories (context.consent.categoryPreferences) → purposes; others are ignored.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ConsentConfig:
        for kind in ("purposes", "channels", "topics", "document_types", "legal_bases"):
            _names(kind, getattr(self, kind))
        # Defaults that were not set by the operator follow the purposes they set; ones they set must match.
        if "defaults" in self.model_fields_set:
            unknown = sorted(set(self.defaults) - set(self.purposes))
            if unknown:
                raise ValueError(f"defaults name purposes that are not configured: {unknown}")
        else:
            self.defaults = {p: v for p, v in self.defaults.items() if p in self.purposes}
        if "segment_categories" in self.model_fields_set:
            unknown = sorted({p for p in self.segment_categories.values() if p not in self.purposes})
            if unknown:
                raise ValueError(f"segment_categories map to purposes that are not configured: {unknown}")
        else:
            self.segment_categories = {c: p for c, p in self.segment_categories.items() if p in self.purposes}
        return self

    def default_for(self, purpose: str) -> ConsentValue:
        """The value of a purpose when nobody chose: configured, else denied (opt-in)."""
        return self.defaults.get(purpose, "denied")
