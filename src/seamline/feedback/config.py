"""Feedback configuration (`[feedback]`, `SEAMLINE_FEEDBACK__…`): where the survey files are, the survey cool-down
counted across every channel, and the template the invitations are sent with."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

# The surveys that ship with Seamline. Named here so reading settings does not read them.
BUILTIN_SURVEYS = Path(__file__).parent / "builtin"


class FeedbackConfig(BaseModel):
    surveys_dir: Path = Field(default=BUILTIN_SURVEYS, description="Folder of survey files (NAME.yaml).")
    cooldown_days: float = Field(
        default=30.0, ge=0, description="No second survey to a person within this many days, whatever the channel."
    )
    template: str = Field(default="survey_invitation", description="The template invitations are sent with.")
