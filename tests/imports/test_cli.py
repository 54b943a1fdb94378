"""`seamline import` through the command line, against a real database."""

from __future__ import annotations

from pathlib import Path

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
