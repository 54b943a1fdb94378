"""`seamline import` through the command line, against a real database."""

from __future__ import annotations

import codecs
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from tests.imports.test_formats import PEOPLE, QUERY, _customers
from tests.imports.test_service import HEADER, MAPPING_YAML, ROWS
from tests.support.builders import make_source
from tests.support.flows import drain


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(MAPPING_YAML, encoding="utf-8")
    data = tmp_path / "people.csv"
    data.write_text(HEADER + "".join(ROWS), encoding="utf-8")
    return data, mapping


def _inbox(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())


def test_import_prints_counts_and_a_second_run_adds_nothing(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    make_source(engine, "crm", "import")
    data, mapping = files
    dry = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 rows, all valid" in dry.output
    assert _inbox(engine) == 0
    first = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert first.exit_code == 0, first.output
    assert "validate: 2 rows" in first.output  # plain progress lines: the test's stdout is not a terminal
    assert "imported 2 rows as 3 messages: 3 new, 0 already in the inbox" in first.output
    again = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert "3 new" not in again.output
    assert "0 new, 3 already in the inbox" in again.output


def test_bad_rows_exit_2_with_their_lines_and_change_nothing(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    make_source(engine, "crm", "import")
    data, mapping = files
    data.write_text(HEADER + "".join(ROWS) + ",x@example.com,,X,Y,,\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "1 problem(s) in 3 row(s); nothing was imported" in result.output
    assert "line 4: the record key column 'customer_no' is empty" in result.output
    assert _inbox(engine) == 0


def test_an_unknown_source_or_a_bad_mapping_is_refused(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    data, mapping = files
    missing = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert missing.exit_code == 1
    assert "no source named 'crm'" in missing.output
    make_source(engine, "crm", "import")
    mapping.write_text("record_key: customer_no\nunknown: 1\n", encoding="utf-8")
    bad = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert bad.exit_code == 2
    assert "the mapping is not valid" in bad.output


def test_parquet_and_query_imports_report_rows_and_their_positions(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_source(engine, "crm", "import")
    _data, mapping = files
    parquet = tmp_path / "people.parquet"
    pq.write_table(pa.Table.from_pylist(PEOPLE), parquet)
    first = runner.invoke(app, ["import", "crm", str(parquet), "--mapping", str(mapping)])
    assert first.exit_code == 0, first.output
    assert "validate: 2 rows, 100%" in first.output
    assert "3 new" in first.output

    source_db = f"sqlite:///{tmp_path / 'crm.db'}"
    _customers(source_db, [*PEOPLE, {**PEOPLE[0], "customer_no": None}])
    monkeypatch.setenv("SEAMLINE_IMPORT_SQL_URL", source_db)
    bad = runner.invoke(app, ["import", "crm", "--query", QUERY, "--mapping", str(mapping)])
    assert bad.exit_code == 2
    assert "row 3: the record key column 'customer_no' is empty" in bad.output
    _customers(source_db, PEOPLE)
    good = runner.invoke(app, ["import", "crm", "--from-sql", source_db, "--query", QUERY, "--mapping", str(mapping)])
    assert good.exit_code == 0, good.output
    assert "validate: 2 rows," in good.output  # no total for a query: rows and rate
    assert "0 new, 3 already in the inbox" in good.output
    assert "both passes read one snapshot" in good.output


def test_a_file_and_a_query_together_or_neither_are_refused(runner: CliRunner, files: tuple[Path, Path]) -> None:
    data, mapping = files
    both = runner.invoke(
        app, ["import", "crm", str(data), "--mapping", str(mapping), "--query", "SELECT 1", "--from-sql", "sqlite://"]
    )
    assert both.exit_code == 2
    assert "not both" in both.output
    neither = runner.invoke(app, ["import", "crm", "--mapping", str(mapping)])
    assert neither.exit_code == 2
    assert "give a file (PATH) or a query" in neither.output


def _traits_of(engine: Engine, name: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT value_json FROM profile_traits WHERE name = :n"), {"n": name}).all()
    return {str(r[0]) for r in rows}


def test_a_file_in_another_encoding_is_refused_with_its_line_and_imports_once_named(
    engine: Engine, settings: Settings, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    make_source(engine, "crm", "import")
    data, mapping = files
    data.write_bytes((HEADER + "".join(ROWS) + "C3,zoe@example.com,,Zoë,Köln,,\n").encode("latin-1"))
    refused = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert refused.exit_code == 2, refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)  # a message, not a traceback
    assert "line 4: the file is not utf-8 here (0xeb): name its encoding, e.g. --encoding cp1252" in refused.output
    assert _inbox(engine) == 0
    named = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping), "--encoding", "latin-1"])
    assert named.exit_code == 0, named.output
    drain(engine, settings)
    # `city` is a part of the canonical model's one structured address.
    assert any(orjson.loads(value).get("city") == "Köln" for value in _traits_of(engine, "address"))
    unknown = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping), "--encoding", "klingon"])
    assert unknown.exit_code == 2
    assert "'klingon' is not an encoding" in unknown.output


def test_a_utf16_file_with_a_byte_order_mark_imports_as_it_is(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    make_source(engine, "crm", "import")
    data, mapping = files
    data.write_bytes(codecs.BOM_UTF16_LE + (HEADER + "".join(ROWS)).replace("\n", "\r\n").encode("utf-16-le"))
    result = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "imported 2 rows as 3 messages: 3 new" in result.output
    data.write_bytes((HEADER + "".join(ROWS)).encode("utf-16-le"))  # no mark: the hint says what to name
    orderless = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping)])
    assert orderless.exit_code == 2
    assert "looks like UTF-16 without a byte-order mark" in orderless.output


def test_every_bad_cell_of_a_row_is_reported_by_the_line_its_record_starts_on(
    engine: Engine, runner: CliRunner, files: tuple[Path, Path]
) -> None:
    make_source(engine, "crm", "import")
    data, mapping = files
    mapping.write_text(MAPPING_YAML.replace("city: city}", "city: city, birthday: dob}"), encoding="utf-8")
    header = HEADER.replace("\n", ",dob\n")
    rows = [
        "C1,ada@example.com,+14155550101,Ada,London,A-1,open,1815-12-10\n",
        'C2,bob@,12,"Bob\nthe second",Paris,,,1980-13-40\n',  # the record spans lines 3 and 4
        "C3,cy@example.com,,Cy,Rome,,,\n",
    ]
    data.write_text(header + "".join(rows), encoding="utf-8")
    result = runner.invoke(app, ["import", "crm", str(data), "--mapping", str(mapping), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "3 problem(s) in 3 row(s); nothing was imported" in result.output
    assert "line 3: email (column 'email'): 'bob@' is not a valid email address" in result.output
    assert "line 3: phone (column 'phone'): '12' is not a valid phone number (default region US)" in result.output
    assert "line 3: column 'dob' (birthday): '1980-13-40' is not a date written YYYY-MM-DD or YYYYMMDD" in result.output
    assert "all valid" not in result.output
