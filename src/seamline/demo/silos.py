"""The demo bank's silo systems: checking, cards and mortgage each kept their own copy of the customer, typed in by
different people over the years. Their exports go in through `seamline import`, like any operator's files."""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Engine

from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from seamline.synthetic.people import Holding, Person
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
COLUMNS = ("customer_no", *SILO_FIELDS, "account_no", "account_status", "account_opened", "balance")
# A product a record names beside the person's own (a second customer number is opened for a second product):
# its status, and the range of its balance (a card's and a mortgage's balance is what is owed).
_OTHER_PRODUCT: dict[str, tuple[str, float, float]] = {
    "checking_account": ("open", 0.0, 8_000.0),
    "credit_card": ("active", -3_000.0, 0.0),
    "mortgage": ("active", -400_000.0, -40_000.0),
}


def mapping_text(silo: Silo) -> str:
    """The import mapping of a silo's export: its own customer number, the person's fields in the silo's own names
    (Seamline maps them onto its canonical customer model: `telephone` is the phone, `date_of_birth` the birthday,
    `street`, `city` and `postcode` one address), and the product the record holds.

    The phone goes in as a trait: identity reads it as a phone identifier (so search finds it) that never joins
    two silo records at import, since a household's landline is on several people's records; matching weighs it.
    """
    return f"""# {silo.source}: the {silo.system} system's customer export
format: csv
record_key: customer_no
identifiers: {{{silo.system}_customer: customer_no, email: email}}
traits: {{first_name: first_name, last_name: last_name, date_of_birth: date_of_birth, street: street,
          city: city, postcode: postcode, national_id: national_id, telephone: phone}}
holdings:
  - {{type: {silo.holding_type}, id: account_no, status: account_status, opened: account_opened, balance: balance}}
"""


def _product(silo: Silo, record: SiloRecord, held: Holding | None) -> list[str]:
    """The product a silo record is kept for: the person's own, else one numbered under the record's customer
    number (a second record opened for a second product). Balances are drawn per record, the same every time."""
    rng = random.Random(record.record_key)
    status, low, high = _OTHER_PRODUCT[silo.holding_type]
    if held is not None:
        number, status, opened = held.external_id, held.status, held.opened_on
    else:
        number = f"{record.record_key}-01"
        opened = date(2008, 1, 1) + timedelta(days=rng.randrange(6_000))
    balance = 0.0 if status in ("closed", "repaid") else round(rng.uniform(low, high), 2)
    return [number, status, opened.isoformat(), f"{balance:.2f}"]


def silo_rows(silo: Silo, records: Sequence[SiloRecord], people: Sequence[Person]) -> list[list[str]]:
    """A silo's export rows: each record with the product it is kept for (the person's own of that kind first)."""
    by_key = {p.person_key: p for p in people}
    used: set[tuple[str, str]] = set()  # (person, product): a joint mortgage is on both people's records
    rows = []
    for record in records:
        if record.system != silo.system:
            continue
        own = [
            h
            for h in by_key[record.person_key].holdings
            if h.kind == silo.holding_type and (record.person_key, h.external_id) not in used
        ]
        held = own[0] if own else None
        if held is not None:
            used.add((record.person_key, held.external_id))
        rows.append([record.record_key, *(v or "" for v in record.fields().values()), *_product(silo, record, held)])
    return rows


def _digit_raised(national_id: str, nth: int) -> str:
    """The id with its nth digit (from 0) one higher: a clerk's slip in the middle of the number, which no sequence
    of issue explains."""
    at = [i for i, c in enumerate(national_id) if c.isdigit()][nth]
    return national_id[:at] + str((int(national_id[at]) + 1) % 10) + national_id[at + 1 :]


def mistype_national_ids(records: Sequence[SiloRecord]) -> list[SiloRecord]:
    """The demo's mistyped national ids: on the first customer (by cards record key) whose cards record and two
    other records agree on names, birth date and id, the cards clerk typed the fifth digit one higher and the clerk
    of the first other system (by record key) the third. The cards record and that one carry no email (an email
    would join them at import whatever their ids). None of the three join at import; matching merges them into one
    profile holding all three ids, and `seamline match findings` lists both mistyped ids with the system holding
    each. Every other record is as generated."""
    by_person: dict[str, list[SiloRecord]] = {}
    for record in records:
        by_person.setdefault(record.person_key, []).append(record)
    for record in sorted(records, key=lambda r: r.record_key):
        if record.system != "cards" or record.national_id is None or record.email is not None:
            continue
        same = sorted(
            (
                other
                for other in by_person[record.person_key]
                if other is not record
                and (other.national_id, other.first_name, other.last_name, other.date_of_birth)
                == (record.national_id, record.first_name, record.last_name, record.date_of_birth)
            ),
            key=lambda r: r.record_key,
        )
        if len(same) != 2 or same[0].email is not None:
            continue
        changed = {
            id(record): replace(record, national_id=_digit_raised(record.national_id, 4)),
            id(same[0]): replace(same[0], national_id=_digit_raised(record.national_id, 2)),
        }
        return [changed.get(id(r), r) for r in records]
    return list(records)


def import_silos(engine: Engine, people: Sequence[Person], seed: int, folder: Path) -> int:
    """Write each silo's export and its mapping into `folder`, then import them; returns the rows imported."""
    folder.mkdir(parents=True, exist_ok=True)
    records = mistype_national_ids(generate_silo_records(list(people), seed))
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
