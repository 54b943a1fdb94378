"""Identity configuration: which identifier types exist, where they come from, and their guards."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from seamline.profiles.vocabulary import DEFAULT_ALIASES

DEFAULT_BLOCKED = (
    "",
    "null",
    "none",
    "nil",
    "undefined",
    "anonymous",
    "guest",
    "unknown",
    "n/a",
    "0",
    "-1",
    "[object Object]",
    "test@test.com",
    "test@example.com",
    "re:^[0-]*$",
)


# Trait names that hold a phone number: the canonical model's `phone` and the aliases it knows by default.
PHONE_TRAITS = ("phone", *(alias for alias, target in DEFAULT_ALIASES.items() if target == "phone"))


class IdentifierRule(BaseModel):
    """One identifier type: its sources in a message, its normal form and its guards."""

    type: str
    kind: Literal["plain", "email", "phone"] = "plain"
    paths: list[str] = Field(default_factory=list, description="Dotted paths in a message, e.g. traits.email.")
    external_id_type: str | None = Field(
        default=None, description="Also read context.externalIds items of this type (Segment's externalIds)."
    )
    priority: int = Field(description="Lower is stronger evidence; decides which profile an event goes to.")
    max_per_profile: int | None = Field(default=None, ge=1, description="e.g. 1 for user_id; None = no limit.")
    is_shareable: bool = Field(
        default=False,
        description="Device-like ids (anonymous_id, device_id) may be held by several people: a shared device "
        "is never evidence to merge two known people.",
    )
    may_join_known_person: bool = Field(
        default=True,
        description="Whether this shareable identifier may take an event that brings new strong identifiers of its "
        "own (a first login, another system's customer number) to the known person already holding it. A device "
        "may; a phone may not: a household's landline is on several people's records.",
    )
    blocked: list[str] = Field(
        default_factory=lambda: list(DEFAULT_BLOCKED),
        description="Values never used as identifiers (case-insensitive); 're:' prefixes a regular expression.",
    )
    case_sensitive: bool = True


def default_rules() -> list[IdentifierRule]:
    """The identifier types Seamline knows out of the box."""
    return [
        IdentifierRule(type="user_id", paths=["userId"], priority=10, max_per_profile=1),
        IdentifierRule(type="national_id", paths=["traits.national_id"], priority=5, max_per_profile=1),
        IdentifierRule(
            type="crm_id", external_id_type="crm_id", paths=["traits.crm_id"], priority=15, max_per_profile=1
        ),
        IdentifierRule(
            type="email",
            kind="email",
            paths=["traits.email", "context.traits.email", "properties.email"],
            priority=20,
            max_per_profile=10,
            case_sensitive=False,
        ),
        # A phone is often a household's landline: like a device, it may be shared, so it joins a profile that is
        # still anonymous (a call, a guest order) but never merges two people each known by something stronger,
        # nor takes a record with its own new customer number to the person already holding the number. It is
        # read under the trait names sources give it (the canonical model's phone aliases), so search finds it.
        IdentifierRule(
            type="phone",
            kind="phone",
            paths=[
                *(f"{head}.{name}" for head in ("traits", "context.traits") for name in PHONE_TRAITS),
                "properties.phone",
            ],
            priority=30,
            max_per_profile=10,
            is_shareable=True,
            may_join_known_person=False,
        ),
        IdentifierRule(type="device_id", paths=["context.device.id"], priority=60, is_shareable=True),
        IdentifierRule(type="anonymous_id", paths=["anonymousId", "previousId"], priority=70, is_shareable=True),
    ]


class IdentityConfig(BaseModel):
    """The identity section of the configuration (`[identity]` in the TOML file)."""

    identifiers: list[IdentifierRule] = Field(default_factory=default_rules)
    default_region: str = Field(default="US", description="Region for phone numbers written without +country.")
    accept_unknown_external_ids: bool = Field(
        default=True, description="context.externalIds of types without a rule become 'ext:<type>' identifiers."
    )
    max_identifiers_per_profile: int = Field(default=500, ge=1)
    max_merges_per_profile: int = Field(default=100, ge=1)

    def with_phone_traits(self, names: list[str]) -> IdentityConfig:
        """This configuration with phones also read from these trait names (aliases of `phone` configured in
        `[traits]`), so a phone under a source's own name is an identifier too."""
        rules = []
        for rule in self.identifiers:
            if rule.kind == "phone":
                added = [f"{head}.{n}" for head in ("traits", "context.traits") for n in names]
                rule = rule.model_copy(update={"paths": [*rule.paths, *(p for p in added if p not in rule.paths)]})
            rules.append(rule)
        return self.model_copy(update={"identifiers": rules})
