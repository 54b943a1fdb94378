"""Silo records into a database the way an operator brings them: one import source per system, a CSV each, then
the worker; and a model trained once per test session on synthetic silo records of the same shape."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from seamline.matching.model import TrainedModel, save_model
from seamline.matching.records import MatchingContext
from seamline.pipeline.registry import Pipeline
from seamline.sources.service import list_sources
from seamline.synthetic.silos import SILO_FIELDS, SiloRecord
from tests.support.builders import make_source
from tests.support.flows import drain

COLUMNS = ("record_key", *SILO_FIELDS)


def mapping_yaml(system: str) -> str:
    """Each system's record key is its own identifier type; national ids travel as the trait identity reads.

    The phone is imported as the trait `telephone`, not as a phone identifier: identity gives an event whose strong
    identifiers are all new to the profile already holding its (shareable) phone, so a household's landline would
    join two silo records of two people at import. Matching reads `telephone` as the phone field.
    """
    return f"""
record_key: record_key
identifiers: {{{system}_customer: record_key, email: email}}
traits: {{first_name: first_name, last_name: last_name, date_of_birth: date_of_birth, street: street,
          city: city, postcode: postcode, national_id: national_id, telephone: phone}}
"""


def import_silos(engine: Engine, settings: Settings, records: Sequence[SiloRecord], folder: Path) -> None:
    """Import every system's records through the import service, then run the worker until the inbox is empty."""
    folder.mkdir(parents=True, exist_ok=True)
    with unit_of_work(engine, write=False) as session:
        known = {s.name for s in list_sources(session)}
    for system in sorted({r.system for r in records}):
        if system not in known:
            make_source(engine, system, "import")
        path = folder / f"{system}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            for r in records:
                if r.system == system:
                    writer.writerow([r.record_key, *(v or "" for v in r.fields().values())])
        import_file(engine, system, path, load_mapping(mapping_yaml(system)))
    drain(engine, settings)


def matching_context(settings: Settings, model: TrainedModel | None = None) -> MatchingContext:
    """The context the CLI and API build, with the session's trained model installed as version 1."""
    ctx = MatchingContext.build(
        settings.matching,
        Pipeline(settings.identity, settings.consent),
        settings.survivorship,
        settings.data_dir,
    )
    if model is not None:
        save_model(ctx.model_dir, model)
    return ctx
