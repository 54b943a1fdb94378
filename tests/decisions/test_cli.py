"""`seamline decisions check`: an operator validates a catalog before deploying it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from seamline.cli import app


def test_check_names_the_bad_file_line_and_field_and_fails(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("kind: survey\ntitle: NPS\npriority: service\nchannels: [email]\n")
    (tmp_path / "bad.yaml").write_text("kind: survey\ntitle: NPS\npriority: service\nchannels: [email]\nvalue: -3\n")
    failed = CliRunner().invoke(app, ["decisions", "check", str(tmp_path)])
    assert failed.exit_code == 1
    assert "bad.yaml:5: value: expected a number ≥ 0" in failed.output
    (tmp_path / "bad.yaml").unlink()
    passed = CliRunner().invoke(app, ["decisions", "check", str(tmp_path)])
    assert passed.exit_code == 0, passed.output
    assert "1 actions" in passed.output
