"""Journeys configuration (`[journeys]` in the TOML file, `SEAMLINE_JOURNEYS__…` in the environment)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class JourneysConfig(BaseModel):
    """Where definitions are read from, how long resume tokens live, how often the stall scan runs."""

    definitions_dir: Path | None = Field(
        default=None,
        description=(
            "A folder of journey definition files (*.yaml), loaded when the server starts and by "
            "`seamline journeys load`; a folder with a bad file loads nothing and the running definitions stay."
        ),
    )
    resume_token_hours: int = Field(default=72, ge=1, le=24 * 30, description="Default life of a resume token.")
    resume_url: str | None = Field(
        default=None,
        description=(
            "The company's page that continues a journey from a resume link sent by email or SMS, with `{token}` "
            "where the resume token goes (https://bank.example/apply/resume?token={token}); unset: no links are sent."
        ),
    )
    stall_scan_seconds: float = Field(default=60.0, gt=0, description="How often the worker looks for stalls.")
