"""Parquet files and SQL queries import like CSV: the same profiles, all or nothing, bad rows named by row number.

Every test runs against Seamline on SQLite and on PostgreSQL; query tests also read from a SQLite and a
PostgreSQL source database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, create_engine, text

from seamline.config import Settings
from seamline.core.errors import InvalidInput
from seamline.imports.service import ImportRefused, import_file, import_query, validate_query
from tests.imports.test_service import _check_profiles, _inbox_count, _mapping, _traits
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding

PEOPLE: list[dict[str, Any]] = [
    {"customer_no": "C1", "email": "ada@example.com", "phone": "+14155550101", "given_name": "Ada",
     "city": "London", "account_no": "A-1", "account_status": "open"},
    {"customer_no": "C2", "email": "bob@example.com", "phone": "+14155550102", "given_name": "Bob",
     "city": "Paris", "account_no": None, "account_status": None},
]  # fmt: skip
QUERY = "SELECT customer_no, email, phone, given_name, city, account_no, account_status FROM customers ORDER BY id"


def _parquet(tmp_path: Path, rows: list[dict[str, Any]], name: str = "people.parquet", *, group: int = 1) -> Path:
    path = tmp_path / name
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=group)
    return path


def _customers(url: str, rows: list[dict[str, Any]]) -> None:
    """The CRM's table, as the CRM keeps it (its own id column, typed columns)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            # As a live database would run: WAL lets the CRM write while an import holds its read snapshot.
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.execute(text("DROP TABLE IF EXISTS customers"))
        conn.execute(
            text(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, customer_no VARCHAR(20), email VARCHAR(200), "
                "phone VARCHAR(40), given_name VARCHAR(100), city VARCHAR(100), account_no VARCHAR(40), "
                "account_status VARCHAR(20))"
            )
        )
        for n, row in enumerate(rows, start=1):
            conn.execute(
                text(
                    "INSERT INTO customers VALUES (:id, :customer_no, :email, :phone, :given_name, :city, "
                    ":account_no, :account_status)"
                ),
                {"id": n, **row},
            )
    engine.dispose()


def test_parquet_import_builds_the_same_profiles(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    source, _ = make_source(engine, "crm", "import")
    seen: list[tuple[str, int, int | None]] = []
    result = import_file(
        engine,
        "crm",
        _parquet(tmp_path, PEOPLE),
        _mapping(),
        progress=lambda phase, done, total, _rows: seen.append((phase, done, total)),
    )
    assert (result.rows, result.messages, result.new_events) == (2, 3, 3)
    assert ("validate", 2, 2) in seen  # Parquet counts rows: the footer says how many there are
    assert ("write", 2, 2) in seen
    _check_profiles(engine, settings, source.id)


def test_parquet_typed_cells_import_as_plain_values(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    typed = [{**PEOPLE[0], "customer_no": 1001, "city": date(2020, 5, 17), "account_no": Decimal("42")}]
    import_file(engine, "crm", _parquet(tmp_path, typed), _mapping())
    drain(engine, settings)
    ada = profile_holding(engine, "crm_id:1001")
    assert _traits(engine, ada, 1)["address"]["city"] == "2020-05-17"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT external_id FROM holdings")).scalar_one() == "42"


def test_parquet_bad_rows_are_named_by_row_number_and_nothing_is_written(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    rows = [*PEOPLE, {**PEOPLE[0], "customer_no": None}, {**PEOPLE[1], "customer_no": "C" * 300}]
    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", _parquet(tmp_path, rows, group=2), _mapping())
    report = caught.value.report
    assert report.unit == "row"
    assert [(e.line, e.reason) for e in report.errors] == [
        (3, "the record key column 'customer_no' is empty"),
        (4, "anonymousId: anonymousId is longer than 255 characters"),
    ]
    assert caught.value.errors[0].field == "row 3"
    assert _inbox_count(engine) == 0


def test_parquet_without_a_mapped_column_is_refused_before_reading(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    rows = [{k: v for k, v in row.items() if k != "city"} for row in PEOPLE]
    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", _parquet(tmp_path, rows), _mapping())
    assert caught.value.report.errors[0].reason == "the header lacks the mapped column(s) city"


def test_parquet_reimport_changes_nothing_and_a_changed_row_updates_facts(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    source, _ = make_source(engine, "crm", "import")
    import_file(engine, "crm", _parquet(tmp_path, PEOPLE), _mapping())
    drain(engine, settings)
    again = import_file(engine, "crm", _parquet(tmp_path, PEOPLE, "again.parquet"), _mapping())
    assert (again.new_events, again.skipped_duplicates) == (0, 3)
    moved = [{**PEOPLE[0], "city": "Leeds"}, PEOPLE[1]]
    changed = import_file(engine, "crm", _parquet(tmp_path, moved, "moved.parquet"), _mapping())
    assert (changed.new_events, changed.skipped_duplicates) == (1, 2)
    drain(engine, settings)
    assert _traits(engine, profile_holding(engine, "email:ada@example.com"), source.id)["address"]["city"] == "Leeds"


def test_a_query_imports_the_same_profiles(engine: Engine, settings: Settings, source_db_url: str) -> None:
    source, _ = make_source(engine, "crm", "import")
    _customers(source_db_url, PEOPLE)
    seen: list[tuple[str, int, int | None]] = []
    result = import_query(
        engine,
        "crm",
        source_db_url,
        QUERY,
        _mapping(),
        progress=lambda phase, done, total, _rows: seen.append((phase, done, total)),
    )
    assert (result.rows, result.messages, result.new_events) == (2, 3, 3)
    assert result.consistency.startswith("one snapshot")
    assert ("write", 2, 2) in seen  # a query's total is unknown until its end (rows only until then)
    _check_profiles(engine, settings, source.id)


def test_a_query_reimport_changes_nothing_and_a_changed_row_updates_facts(
    engine: Engine, settings: Settings, source_db_url: str
) -> None:
    source, _ = make_source(engine, "crm", "import")
    _customers(source_db_url, PEOPLE)
    import_query(engine, "crm", source_db_url, QUERY, _mapping())
    drain(engine, settings)
    again = import_query(engine, "crm", source_db_url, QUERY, _mapping())
    assert (again.new_events, again.skipped_duplicates) == (0, 3)
    _customers(source_db_url, [{**PEOPLE[0], "city": "Leeds"}, PEOPLE[1]])
    changed = import_query(engine, "crm", source_db_url, QUERY, _mapping())
    assert (changed.new_events, changed.skipped_duplicates) == (1, 2)
    drain(engine, settings)
    assert _traits(engine, profile_holding(engine, "email:ada@example.com"), source.id)["address"]["city"] == "Leeds"


def test_a_query_with_bad_rows_names_their_row_numbers_and_writes_nothing(engine: Engine, source_db_url: str) -> None:
    make_source(engine, "crm", "import")
    _customers(source_db_url, [*PEOPLE, {**PEOPLE[0], "customer_no": None}])
    with pytest.raises(ImportRefused) as caught:
        import_query(engine, "crm", source_db_url, QUERY, _mapping())
    assert [(e.line, e.reason) for e in caught.value.report.errors] == [
        (3, "the record key column 'customer_no' is empty")
    ]
    assert _inbox_count(engine) == 0


def test_a_query_the_database_refuses_or_that_lacks_a_column_is_reported(engine: Engine, source_db_url: str) -> None:
    make_source(engine, "crm", "import")
    _customers(source_db_url, PEOPLE)
    with pytest.raises(InvalidInput) as refused:
        validate_query(source_db_url, "SELECT nonsense FROM nowhere", _mapping(), "crm")
    assert refused.value.errors[0].field == "query"
    report = validate_query(source_db_url, "SELECT customer_no, email FROM customers", _mapping(), "crm")
    assert "the header lacks the mapped column(s) account_no" in report.errors[0].reason
    with pytest.raises(InvalidInput) as unusable:
        validate_query("nosuchdb://x/y", QUERY, _mapping(), "crm")
    assert unusable.value.errors[0].field == "from_sql"


def test_a_query_runs_read_only(engine: Engine, source_db_url: str) -> None:
    make_source(engine, "crm", "import")
    _customers(source_db_url, PEOPLE)
    with pytest.raises(InvalidInput) as refused:
        validate_query(source_db_url, "DELETE FROM customers RETURNING customer_no", _mapping(), "crm")
    assert refused.value.errors[0].field == "query"
    check = create_engine(source_db_url)
    with check.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 2
    check.dispose()


def test_both_passes_of_a_query_read_one_snapshot(engine: Engine, settings: Settings, source_db_url: str) -> None:
    source, _ = make_source(engine, "crm", "import")
    _customers(source_db_url, PEOPLE)
    crm = create_engine(source_db_url)
    changed: list[bool] = []

    def change_the_source(phase: str, _done: int, _total: int | None, _rows: int) -> None:
        # Once validation has read everything, the CRM changes a row and adds one before the write pass runs.
        if phase == "validate" and not changed:
            with crm.begin() as conn:
                conn.execute(text("UPDATE customers SET city = 'Leeds' WHERE customer_no = 'C1'"))
                conn.execute(text("INSERT INTO customers (id, customer_no) VALUES (3, NULL)"))
            changed.append(True)

    result = import_query(engine, "crm", source_db_url, QUERY, _mapping(), progress=change_the_source)
    crm.dispose()
    assert changed
    assert result.rows == 2  # the bad row added meanwhile is not in the snapshot
    drain(engine, settings)
    assert _traits(engine, profile_holding(engine, "email:ada@example.com"), source.id)["address"]["city"] == "London"


def test_a_long_query_reports_rows_without_a_total_until_its_end(engine: Engine, source_db_url: str) -> None:
    make_source(engine, "crm", "import")
    many = [{**PEOPLE[1], "customer_no": f"C{n}", "email": f"p{n}@example.com", "phone": None} for n in range(2_500)]
    _customers(source_db_url, many)
    seen: list[tuple[str, int, int | None, int]] = []
    import_query(engine, "crm", source_db_url, QUERY, _mapping(), progress=lambda *args: seen.append(args))
    validate = [s for s in seen if s[0] == "validate"]
    assert validate == [
        ("validate", 1_000, None, 1_000),
        ("validate", 2_000, None, 2_000),
        ("validate", 2_500, 2_500, 2_500),
    ]
