"""Configuration: environment, TOML file, nested identity and survivorship sections, and refusal of unknown keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from seamline.config import Settings


def test_a_toml_file_sets_nested_sections_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "seamline.toml"
    config.write_text(
        """
port = 9000
[identity]
default_region = "GB"
[[identity.identifiers]]
type = "user_id"
paths = ["userId"]
priority = 10
max_per_profile = 1
blocked = ["re:^tmp-"]
[survivorship]
traits = { email = "source_priority" }
source_ranking = ["crm", "web"]
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("SEAMLINE_CONFIG", str(config))
    monkeypatch.setenv("SEAMLINE_PORT", "9100")
    settings = Settings()
    assert settings.port == 9100
    assert settings.identity.default_region == "GB"
    assert [(r.type, r.blocked) for r in settings.identity.identifiers] == [("user_id", ["re:^tmp-"])]
    assert settings.survivorship.traits == {"email": "source_priority"}
    assert settings.database_url.startswith("sqlite:///")


def test_unknown_keys_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "seamline.toml"
    config.write_text("prot = 9000\n", encoding="utf-8")
    monkeypatch.setenv("SEAMLINE_CONFIG", str(config))
    with pytest.raises(ValidationError, match="prot"):
        Settings()


def test_the_public_url_is_an_http_address_and_defaults_to_where_serve_listens() -> None:
    assert Settings().public_base_url == "http://127.0.0.1:8000"
    assert Settings(host="::1", port=9000).public_base_url == "http://[::1]:9000"
    assert Settings(public_url="https://cdp.example.com/").public_base_url == "https://cdp.example.com"
    for bad in ("cdp.example.com", "ftp://cdp.example.com", "https://cdp.example.com/?x=1", "https://u:p@cdp.example"):
        with pytest.raises(ValueError, match="public_url"):
            Settings(public_url=bad)
