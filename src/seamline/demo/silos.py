"""The demo bank's silo systems: checking, cards and mortgage each kept their own copy of the customer, typed in by
different people over the years. Their exports go in through `seamline import`, like any operator's files."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from seamline.synthetic.people import Person
from seamline.synthetic.silos import SILO_FIELDS, SiloRecord, generate_silo_records


@dataclass(frozen=True, slots=True)
class Silo:
    """One product system: its source name in Seamline and the holding its records carry."""

    system: str
    source: str
    holding_type: str


SILOS = (
    Silo("checking", "core-banking", "checking_account"),
    Silo("cards", "cards-system", "credit_card"),
    Silo("mortgage", "mortgage-system", "mortgage"),
)
COLUMNS = ("customer_no", *SILO_FIELDS, "account_no", "account_status")


def mapping_text(silo: Silo) -> str:
    """The import mapping of a silo's export: its own customer number, the person's fields, the product held.

    The phone goes in as a trait (`telephone`, which matching compares), not as an identifier: a household's
    landline is on several people's records, and identity would join them at import.
    """
    return f"""# {silo.source}: the {silo.system} system's customer export
format: csv
record_key: customer_no
identifiers: {{{silo.system}_customer: customer_no, email: email}}
traits: {{first_name: first_name, last_name: last_name, date_of_birth: date_of_birth, street: street,
          city: city, postcode: postcode, national_id: national_id, telephone: phone}}
holdings:
  - {{type: {silo.holding_type}, id: account_no, status: account_status}}
"""


def silo_rows(silo: Silo, records: Sequence[SiloRecord], people: Sequence[Person]) -> list[list[str]]:
    """A silo's export rows: each record with the account the person holds in that system (if any)."""
    by_key = {p.person_key: p for p in people}
    rows = []
    for record in records:
        if record.system != silo.system:
            continue
        held = [h for h in by_key[record.person_key].holdings if h.kind == silo.holding_type]
        account = [held[0].external_id, held[0].status] if held else ["", ""]
        rows.append([record.record_key, *(v or "" for v in record.fields().values()), *account])
    return rows


def import_silos(engine: Engine, people: Sequence[Person], seed: int, folder: Path) -> int:
    """Write each silo's export and its mapping into `folder`, then import them; returns the rows imported."""
    folder.mkdir(parents=True, exist_ok=True)
    records = generate_silo_records(list(people), seed)
    imported = 0
    for silo in SILOS:
        data, mapping = folder / f"{silo.system}.csv", folder / f"{silo.system}.mapping.yaml"
        mapping.write_text(mapping_text(silo), encoding="utf-8")
        with data.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            writer.writerows(silo_rows(silo, records, people))
        imported += import_file(engine, silo.source, data, load_mapping(mapping.read_text(encoding="utf-8"))).rows
    return imported
