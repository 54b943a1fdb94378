"""Errors configuration (`[errors]` in the TOML file, `SEAMLINE_ERRORS__…`): the policy file and how often the
worker checks clocks. The running policy is `errors.policystore.PolicyStore`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ErrorsConfig(BaseModel):
    """The errors section of the configuration."""

    policy_file: Path | None = Field(
        default=None, description="The harm, severity and escalation policy (YAML); empty: the built-in policy."
    )
    check_seconds: float = Field(default=60.0, gt=0, description="How often the worker checks escalation clocks.")
