"""The parts of the configuration read alone (config_parts: the database settings, one section) are the ones the
whole configuration (Settings) reads, from the environment, the TOML file, or both, and both refuse the same
mistakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seamline.cases.config import CasesConfig
from seamline.config import Settings
from seamline.config_parts import DEFAULT_DATA_DIR, DatabaseSettings, config_section, database_settings
from seamline.users.config import ConsoleConfig


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("SEAMLINE_"):
            monkeypatch.delenv(name)


def _both() -> DatabaseSettings:
    alone = database_settings()
    assert alone == Settings().database
    return alone


def _config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "seamline.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SEAMLINE_CONFIG", str(path))


def test_by_default_the_embedded_database_in_the_data_folder() -> None:
    found = _both()
    assert found == DatabaseSettings(DEFAULT_DATA_DIR, f"sqlite:///{DEFAULT_DATA_DIR / 'seamline.db'}", "FULL")


def test_the_environment_in_any_case_and_an_empty_url_means_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("seamline_data_dir", str(tmp_path / "data"))  # pydantic-settings matches any case
    monkeypatch.setenv("SEAMLINE_SQLITE_SYNCHRONOUS", "NORMAL")
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", "")
    found = _both()
    assert found.database_url == f"sqlite:///{tmp_path / 'data' / 'seamline.db'}"
    assert found.sqlite_synchronous == "NORMAL"


def test_the_file_sets_them_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(
        tmp_path,
        monkeypatch,
        f'data_dir = "{tmp_path / "from-file"}"\nsqlite_synchronous = "EXTRA"\nport = 9000\n[cases]\n',
    )
    assert _both() == DatabaseSettings(
        tmp_path / "from-file", f"sqlite:///{tmp_path / 'from-file' / 'seamline.db'}", "EXTRA"
    )
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", "postgresql+psycopg://u@h/db")
    found = _both()
    assert (found.database_url, found.sqlite_synchronous) == ("postgresql+psycopg://u@h/db", "EXTRA")


def test_a_config_file_that_is_not_there_sets_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAMLINE_CONFIG", str(tmp_path / "missing.toml"))
    assert _both().data_dir == DEFAULT_DATA_DIR


@pytest.mark.parametrize(
    ("variable", "value", "in_file"),
    [("SEAMLINE_SQLITE_SYNCHRONOUS", "sometimes", False), ("data_dir", "7", True), ("database_url", "1", True)],
)
def test_both_refuse_a_value_that_is_not_valid(
    variable: str, value: str, in_file: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if in_file:
        _config(tmp_path, monkeypatch, f"{variable} = {value}\n")  # a number where a string belongs
    else:
        monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable.removeprefix("SEAMLINE_").lower()):
        database_settings()
    with pytest.raises(ValueError, match=variable.removeprefix("SEAMLINE_").lower()):
        Settings()


def test_a_section_from_the_file_is_the_one_settings_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_section("cases", CasesConfig) == Settings().cases  # no file: the defaults
    _config(
        tmp_path,
        monkeypatch,
        '[cases]\ndefault_queue = "billing"\n[cases.calendar]\ntimezone = "Europe/London"\n[console]\n',
    )
    cases = config_section("cases", CasesConfig)
    assert cases == Settings().cases
    assert cases is not None
    assert cases.default_queue == "billing"
    assert config_section("console", ConsoleConfig) == Settings().console


def test_a_section_the_environment_sets_is_left_to_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("seamline_cases__default_queue", "billing")  # nested variables: pydantic-settings' reading
    assert config_section("cases", CasesConfig) is None
    assert config_section("console", ConsoleConfig) == Settings().console
    assert Settings().cases.default_queue == "billing"


def test_a_section_refuses_what_settings_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, '[cases]\ndefault_queue = "Not A Queue"\n')
    with pytest.raises(ValueError, match="default_queue"):
        config_section("cases", CasesConfig)
    with pytest.raises(ValueError, match="default_queue"):
        Settings()
