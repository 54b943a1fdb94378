"""Importing files end to end on SQLite and PostgreSQL: validate, write all or nothing, then the worker's profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import NotFound
from seamline.imports.mapping import ImportMapping, load_mapping
from seamline.imports.service import ImportRefused, import_file, validate_file
from seamline.profiles.service import golden_traits
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding

MAPPING_YAML = """
record_key: customer_no
identifiers: {email: email, phone: phone, crm_id: customer_no}
traits: {first_name: given_name, city: city}
holdings:
  - {type: checking_account, id: account_no, status: account_status}
"""
HEADER = "customer_no,email,phone,given_name,city,account_no,account_status\n"
ROWS = [
    "C1,ada@example.com,+14155550101,Ada,London,A-1,open\n",
    "C2,bob@example.com,+14155550102,Bob,Paris,,\n",
]


def _mapping() -> ImportMapping:
    return load_mapping(MAPPING_YAML)


def _csv(tmp_path: Path, rows: list[str], name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _inbox_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())


def _traits(engine: Engine, profile_id: int, source_id: int) -> dict[str, object]:
    with unit_of_work(engine, write=False) as session:
        return {
            t.name: t.value for t in golden_traits(session, profile_id, {source_id: "crm"}, Settings().survivorship)
        }


def _check_profiles(engine: Engine, settings: Settings, source_id: int) -> None:
    drain(engine, settings)
    ada = profile_holding(engine, "email:ada@example.com")
    assert profile_holding(engine, "phone:+14155550101") == ada
    assert profile_holding(engine, "crm_id:C1") == ada
    assert profile_holding(engine, "email:bob@example.com") != ada
    assert _traits(engine, ada, source_id)["address"]["city"] == "London"
    with engine.connect() as conn:
        sources = {
            r[0] for r in conn.execute(text("SELECT source_id FROM profile_traits WHERE profile_id = :p"), {"p": ada})
        }
        holdings = conn.execute(text("SELECT profile_id, type, external_id, status, source_id FROM holdings")).all()
    assert sources == {source_id}  # provenance: the import's source
    assert [tuple(h) for h in holdings] == [(ada, "checking_account", "A-1", "open", source_id)]


def test_csv_import_builds_profiles_with_identifiers_traits_and_holdings(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    source, _ = make_source(engine, "crm", "import")
    result = import_file(engine, "crm", _csv(tmp_path, ROWS), _mapping())
    assert (result.rows, result.messages, result.new_events, result.skipped_duplicates) == (2, 3, 3, 0)
    _check_profiles(engine, settings, source.id)


def test_jsonl_import_builds_the_same_profiles(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    source, _ = make_source(engine, "crm", "import")
    lines = [
        {"customer_no": "C1", "email": "ada@example.com", "phone": "+14155550101", "given_name": "Ada",
         "city": "London", "account_no": "A-1", "account_status": "open"},
        {"customer_no": "C2", "email": "bob@example.com", "phone": "+14155550102", "given_name": "Bob",
         "city": "Paris", "account_no": None},
    ]  # fmt: skip
    path = tmp_path / "people.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = import_file(engine, "crm", path, _mapping())
    assert (result.rows, result.new_events) == (2, 3)
    _check_profiles(engine, settings, source.id)


def test_a_bad_row_refuses_the_whole_file(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    bad = _csv(tmp_path, [*ROWS, ",nobody@example.com,,No,Key,,\n", "C4,x\n", "C" * 300 + ",long@example.com,,,,,\n"])
    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", bad, _mapping())
    report = caught.value.report
    assert report.rows == 5
    assert [(e.line, e.reason) for e in report.errors][:2] == [
        (4, "the record key column 'customer_no' is empty"),
        (5, "2 fields where the header has 7"),
    ]
    # What the tracking API refuses is found before anything is written.
    assert (report.errors[2].line, report.errors[2].reason) == (
        6,
        "anonymousId: anonymousId is longer than 255 characters",
    )
    assert _inbox_count(engine) == 0  # not even the good rows


def test_a_header_without_a_mapped_column_is_reported_once(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("customer_no,email\nC1,a@example.com\n", encoding="utf-8")
    report = validate_file(path, _mapping(), "crm")
    assert report.error_count == 1
    assert "account_no" in report.errors[0].reason


def test_reimport_changes_nothing_and_a_changed_row_updates_its_facts(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    source, _ = make_source(engine, "crm", "import")
    import_file(engine, "crm", _csv(tmp_path, ROWS), _mapping())
    drain(engine, settings)
    again = import_file(engine, "crm", _csv(tmp_path, ROWS), _mapping())
    assert (again.new_events, again.skipped_duplicates) == (0, 3)

    moved = [ROWS[0].replace("London", "Leeds"), ROWS[1]]
    changed = import_file(engine, "crm", _csv(tmp_path, moved, "people-2.csv"), _mapping())
    assert (changed.new_events, changed.skipped_duplicates) == (1, 2)  # Ada's identify only
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT anonymous_id, type FROM inbox_events ORDER BY id DESC LIMIT 1")).one()
    assert tuple(newest) == ("crm:C1", "identify")
    drain(engine, settings)
    assert _traits(engine, profile_holding(engine, "email:ada@example.com"), source.id)["address"]["city"] == "Leeds"


def test_an_unknown_source_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no source named 'crm'"):
        import_file(engine, "crm", _csv(tmp_path, ROWS), _mapping())


def test_twenty_thousand_rows_import(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(20_000):
            out.write(f"C{n},p{n}@example.com,,Name{n},City{n % 50},A-{n},open\n")
    seen: list[tuple[str, int]] = []
    result = import_file(
        engine, "crm", path, _mapping(), progress=lambda phase, _d, _t, rows: seen.append((phase, rows))
    )
    assert (result.rows, result.messages, result.new_events) == (20_000, 40_000, 40_000)
    assert _inbox_count(engine) == 40_000
    assert ("validate", 20_000) in seen
    assert ("write", 20_000) in seen


def test_a_file_changed_between_validation_and_writing_is_refused_whole(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    path = _csv(tmp_path, ROWS)

    def swap_after_validation(phase: str, done: int, total: int | None, rows: int) -> None:
        if phase == "validate" and total is not None and done >= total:
            # The write pass trusts the validated cells; the changed file must not get a bad email in.
            path.write_text(HEADER + "".join(ROWS) + "C3,not-an-email,,Cy,Rome,,\n", encoding="utf-8")

    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", path, _mapping(), progress=swap_after_validation)
    assert [(e.line, e.reason) for e in caught.value.report.errors] == [
        (0, "the input changed while it was imported; import it again")
    ]
    assert _inbox_count(engine) == 0


def test_an_invalid_email_phone_or_date_refuses_the_row_with_every_problem(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    path = _csv(tmp_path, [*ROWS, "C3,cy@example,555,Cy,Rome,,\n"])
    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", path, _mapping())
    assert [(e.line, e.reason) for e in caught.value.report.errors] == [
        (4, "email (column 'email'): 'cy@example' is not a valid email address"),
        (4, "phone (column 'phone'): '555' is not a valid phone number (default region US)"),
    ]
    assert _inbox_count(engine) == 0
