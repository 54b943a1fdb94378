"""Tasks configuration (`[tasks]`, `SEAMLINE_TASKS__…`): where a task goes when no queue is named, and how many
business minutes each priority has. The clock is the cases' business calendar (`[cases.calendar]`)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from seamline.tasks.lifecycle import QUEUE_NAME


class DueMinutes(BaseModel):
    """Business minutes from creation to due, per priority."""

    urgent: int = Field(default=60, ge=1)
    high: int = Field(default=4 * 60, ge=1)
    normal: int = Field(default=8 * 60, ge=1)
    low: int = Field(default=3 * 8 * 60, ge=1)


class TasksConfig(BaseModel):
    default_queue: str = Field(default="service", description="Where a task goes when no queue is named.")
    due_minutes: DueMinutes = Field(default_factory=DueMinutes)

    @field_validator("default_queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not QUEUE_NAME.fullmatch(value):
            raise ValueError(f"a queue is 1-64 lower-case letters, digits, '.', '_' or '-'; not {value!r}")
        return value

    def minutes_for(self, priority: str) -> int:
        minutes: int = getattr(self.due_minutes, priority)
        return minutes
