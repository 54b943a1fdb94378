"""Parts of the configuration, read without building the whole of it.

Building `Settings` (config.py) costs a CLI command about a fifth of its start-up: pydantic-settings and every
domain's settings models (~0.1 s here). A command that needs only the database reads its three settings here; one
that needs one section (`[cases]`, `[console]`) reads that section alone. Both come from the same sources with the
same precedence as `Settings` — `SEAMLINE_*` variables (in any case, as pydantic-settings reads them), then the TOML
file named by `SEAMLINE_CONFIG` — and `Settings` takes its database defaults from here, so the two cannot drift
apart (tests/test_config_parts.py checks they agree). What is read is checked; a mistake elsewhere in the
configuration is reported by the commands that read that part (and by `serve`, which reads all of it).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, get_args

if TYPE_CHECKING:
    from pydantic import BaseModel

    Section = TypeVar("Section", bound=BaseModel)

CONFIG_FILE_ENV = "SEAMLINE_CONFIG"
ENV_PREFIX = "SEAMLINE_"
DEFAULT_DATA_DIR = Path("seamline-data")
Synchronous = Literal["NORMAL", "FULL", "EXTRA"]
DEFAULT_SYNCHRONOUS: Synchronous = "FULL"


def default_database_url(data_dir: Path) -> str:
    """The embedded database: SQLite in the data folder."""
    return f"sqlite:///{data_dir / 'seamline.db'}"


@dataclass(frozen=True)
class DatabaseSettings:
    """The settings that say which database to open and how."""

    data_dir: Path
    database_url: str
    sqlite_synchronous: Synchronous


def database_settings() -> DatabaseSettings:
    """The database settings from the environment and the config file; ValueError names a value that is not valid."""
    found = {**_from_file(), **_from_environment()}
    data_dir = Path(_text(found, "data_dir", str(DEFAULT_DATA_DIR)))
    synchronous = _text(found, "sqlite_synchronous", DEFAULT_SYNCHRONOUS)
    if synchronous not in get_args(Synchronous):
        raise ValueError(f"sqlite_synchronous must be one of {', '.join(get_args(Synchronous))}, not {synchronous!r}")
    return DatabaseSettings(
        data_dir=data_dir,
        database_url=_text(found, "database_url", "") or default_database_url(data_dir),
        sqlite_synchronous=cast(Synchronous, synchronous),
    )


_FIELDS = ("data_dir", "database_url", "sqlite_synchronous")


def config_section(name: str, model: type[Section]) -> Section | None:
    """One section of the configuration file, checked by its own model (ValueError names what is wrong); None when
    the environment sets any of it (`SEAMLINE_CASES__…`): then the whole `Settings`, whose reading of nested
    variables this does not repeat, must be asked."""
    prefix = f"{ENV_PREFIX}{name}".lower()
    if any(key.lower() == prefix or key.lower().startswith(f"{prefix}__") for key in os.environ):
        return None
    found = _file().get(name, {})
    return model.model_validate(found)


def _from_environment() -> dict[str, Any]:
    # pydantic-settings matches variable names in any case; of two spellings of one name, the later one wins.
    found = {}
    for name, value in os.environ.items():
        key = name.lower().removeprefix(ENV_PREFIX.lower()) if name.lower().startswith(ENV_PREFIX.lower()) else ""
        if key in _FIELDS:
            found[key] = value
    return found


def _from_file() -> dict[str, Any]:
    values = _file()
    return {key: values[key] for key in _FIELDS if key in values}


def _file() -> dict[str, Any]:
    named = os.environ.get(CONFIG_FILE_ENV)
    if not named:
        return {}
    path = Path(named).expanduser()
    if not path.is_file():
        return {}  # as pydantic-settings: a file that is not there sets nothing
    with path.open("rb") as file:
        return tomllib.load(file)


def _text(found: dict[str, Any], key: str, default: str) -> str:
    value = found.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {value!r}")
    return value
