"""The state machine, pure; and the cases section of the configuration from TOML and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.cases.lifecycle import STATUSES, TRANSITIONS, is_deescalation, moves_from, transition_error
from seamline.config import Settings


def test_every_status_has_its_moves_and_closed_is_final() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert TRANSITIONS["closed"] == ()
    for current, allowed in TRANSITIONS.items():
        for wanted in STATUSES:
            problem = transition_error(current, wanted)
            if wanted in allowed:
                assert problem is None
            else:
                assert problem is not None
                assert problem.field == "status"
                assert problem.code == ("unchanged" if wanted == current else "invalid_transition")
    assert transition_error("open", "archived") is not None


def test_only_a_supervisor_moves_an_escalated_case_on() -> None:
    assert [w for w in STATUSES if is_deescalation("escalated", w)] == [
        "open",
        "pending-customer",
        "resolved",
        "closed",
    ]
    assert not any(is_deescalation(c, w) for c in STATUSES if c != "escalated" for w in STATUSES)
    assert moves_from("escalated", may_supervise=False) == ()
    assert moves_from("escalated", may_supervise=True) == ("open", "pending-customer", "resolved")
    assert moves_from("open", may_supervise=False) == ("pending-customer", "resolved")
    assert moves_from("closed", may_supervise=True) == ()


def test_the_cases_section_comes_from_toml_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "seamline.toml"
    config.write_text(
        """
[cases]
default_queue = "front-desk"
[cases.calendar]
timezone = "Europe/London"
holidays = ["2026-12-25"]
[cases.targets.low]
first_response_minutes = 960
resolution_minutes = 4800
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("SEAMLINE_CONFIG", str(config))
    monkeypatch.setenv("SEAMLINE_CASES__SUPERVISOR_QUEUE", "team-leads")
    settings = Settings()
    assert (settings.cases.default_queue, settings.cases.supervisor_queue) == ("front-desk", "team-leads")
    assert settings.cases.calendar.timezone == "Europe/London"
    assert settings.cases.targets.low.first_response_minutes == 960
    assert settings.cases.targets.high.resolution_minutes == 480  # untouched priorities keep their defaults
