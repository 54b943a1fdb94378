"""The journey definitions installed in the store: files loaded into it (all or none), and the running ones read
back, each parsed once per revision. Reads only its own tables, so the CLI's `journeys list` and the API's
definition routes need nothing else of the domain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from seamline.core.prepared import Reads
from seamline.journeys import repository
from seamline.journeys.definitions import JourneyDef, as_json, from_json, load_folder

# Parsed definitions by (key, revision, loaded at): a request reads only those three columns to know its copies
# are current, instead of parsing every definition's body again (a journey save read them three times).
_PARSED: dict[tuple[str, int, datetime], JourneyDef] = {}
_MOST_PARSED = 256


def running_definitions(reads: Reads) -> dict[str, JourneyDef]:
    """The loaded definitions, by key (in a unit of work, or on a read snapshot: prepared statements)."""
    versions = repository.definition_version_rows(reads)
    if any(version not in _PARSED for version in versions):
        if len(_PARSED) > _MOST_PARSED:
            _PARSED.clear()
        for key, revision, at, body in repository.definition_body_rows(reads):
            _PARSED.setdefault((key, revision, at), from_json(body))
    found = {key: _PARSED.get((key, revision, at)) for key, revision, at in sorted(versions)}
    return {key: definition for key, definition in found.items() if definition is not None}


def install_definitions(session: Session, definitions: Sequence[JourneyDef], now: datetime) -> list[str]:
    """Make these (already validated) definitions the running ones for their keys; others stay as they are."""
    for definition in definitions:
        repository.replace_definition(session, definition.key, definition.name, as_json(definition), now)
    return [d.key for d in definitions]


def load_definitions(session: Session, folder: Path, now: datetime) -> list[str]:
    """Read every definition file of a folder and make them the running ones, all or none: a bad file raises
    DefinitionsInvalid (each problem with file, line and field) and leaves the running definitions unchanged."""
    return install_definitions(session, load_folder(folder), now)
