"""Triggers configuration (`[triggers]`, `SEAMLINE_TRIGGERS__…`): where the rule files and the customer segments
are, how often the worker looks for changes to them, how many due steps it takes at once, and how many people of a
scheduled rule's segment one transaction looks at."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class TriggersConfig(BaseModel):
    rules_dir: Path | None = Field(
        default=None, description="Folder of rule files (NAME.yaml); by default DATA_DIR/rules, if it exists."
    )
    segments_file: Path | None = Field(
        default=None,
        description="The customer segments file (segments.yaml) that rules and the reports' segment filter name; "
        "by default DATA_DIR/segments.yaml, if it exists.",
    )
    reload_seconds: float = Field(
        default=5.0, ge=0, description="How often the worker checks the folder for changed files (0: every batch)."
    )
    due_batch: int = Field(default=200, ge=1, description="Most due steps one worker transaction takes.")
    segment_page: int = Field(
        default=1000, ge=1, description="Most people of a scheduled rule's segment one worker transaction looks at."
    )
