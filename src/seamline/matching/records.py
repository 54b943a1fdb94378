"""Profiles as match records: each active profile's golden values of the matching fields, prepared for comparison.

Identifier links (normalized by identity: email, E.164 phone, national id) win over trait values of the same field.
A profile with no name at all (a web visitor known by a device) is not a record: there is nothing to match on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from seamline.identity.service import IdentityContext, active_profiles, identifier_values
from seamline.matching.config import MatchingConfig
from seamline.matching.prepare import FIELDS, prepare
from seamline.profiles.service import golden_values
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import list_sources

IDENTIFIER_FIELDS = ("email", "phone", "national_id")


@dataclass(frozen=True)
class MatchingContext:
    """What matching needs, built once per process from the configuration."""

    config: MatchingConfig
    identity: IdentityContext
    survivorship: SurvivorshipConfig
    model_dir: Path

    @classmethod
    def build(
        cls, config: MatchingConfig, identity: IdentityContext, survivorship: SurvivorshipConfig, data_dir: Path
    ) -> MatchingContext:
        return cls(config, identity, survivorship, config.model_dir or data_dir / "models")

    @property
    def region(self) -> str:
        return self.identity.config.default_region


def _lookup(traits: Mapping[str, Any], name: str) -> Any:
    head, _, rest = name.partition(".")
    value = traits.get(head)
    for part in rest.split(".") if rest else ():
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def raw_fields(
    traits: Mapping[str, Any], identifiers: Mapping[str, str], names: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """A profile's value of each matching field: its identifier of that type, else the first trait that has one."""
    out: dict[str, Any] = {}
    for field in FIELDS:
        value = identifiers.get(field) if field in IDENTIFIER_FIELDS else None
        for name in names.get(field, ()):
            if value is not None:
                break
            value = _lookup(traits, name)
        out[field] = value
    return out


def profile_records(
    session: Session, ctx: MatchingContext, profile_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Prepared records (unique_id = the profile id as text) of these active profiles, or of all of them."""
    return list(iter_profile_records(session, ctx, profile_ids))


def iter_profile_records(
    session: Session, ctx: MatchingContext, profile_ids: Sequence[int] | None = None
) -> Iterator[dict[str, Any]]:
    """The same, one at a time: a batch builds its table column by column (table.py) without holding a dict per
    record (1.1 GB at a million)."""
    trait_names = sorted({n.split(".", 1)[0] for names in ctx.config.traits.values() for n in names})
    source_names = {s.id: s.name for s in list_sources(session)}
    traits = golden_values(session, trait_names, source_names, ctx.survivorship, profile_ids)
    identifiers = identifier_values(session, IDENTIFIER_FIELDS, profile_ids)
    for profile_id in active_profiles(session, profile_ids):
        raw = raw_fields(traits.get(profile_id, {}), identifiers.get(profile_id, {}), ctx.config.traits)
        prepared = prepare(raw, ctx.region)
        if prepared["first_name"] is None and prepared["last_name"] is None:
            continue
        yield {"unique_id": str(profile_id), **prepared}
