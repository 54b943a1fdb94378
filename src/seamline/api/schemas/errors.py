"""Wire shapes of the communication-errors API (pydantic), apart from the tables and views they are made from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from seamline.core.ids import Id


class ErrorIn(BaseModel):
    """One report that a communication was wrong."""

    communication_ids: list[str] = Field(
        min_length=1, max_length=20, description="The communications (public ids from the log) the report is about."
    )
    field: str = Field(max_length=100, description="The field that was wrong: first_name, address, balance, recipient…")
    shown: str | None = Field(default=None, max_length=1000, description="What the communication showed.")
    expected: str | None = Field(default=None, max_length=1000, description="What it should have shown.")
    description: str | None = Field(default=None, max_length=2000)
    harm: str | None = Field(
        default=None, description="cosmetic, contact_data, financial, privacy, regulatory; default: the policy's "
        "harm for the field."
    )  # fmt: skip
    customers_affected: int = Field(default=1, ge=1)
    is_vulnerable: bool = False
    profile_id: Id | None = Field(default=None, description="Default: the person the first communication went to.")
    case_id: Id | None = Field(default=None, description="The case the customer raised it in.")
    external_ref: str | None = Field(default=None, max_length=200, description="Your id for it: reported once.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "communication_ids": ["msg_6f1c…"],
                    "field": "balance",
                    "shown": "£12.00",
                    "expected": "£1,200.00",
                    "case_id": 17,
                }
            ]
        }
    }


class ErrorBatchIn(BaseModel):
    errors: list[ErrorIn] = Field(min_length=1, max_length=1000, description="Accepted as a whole, or not at all.")


class NoteIn(BaseModel):
    note: str = Field(max_length=1000, description="What was done.")


class DecisionIn(BaseModel):
    decision: str = Field(description="reported (the authority was told) or not_reportable")


class FixIn(BaseModel):
    traits: dict[str, Any] = Field(description="The corrected values: first_name, last_name, email, phone, address…")
    reason: str | None = Field(default=None, max_length=500)


class ResendIn(BaseModel):
    value: str = Field(min_length=1, max_length=1000, description="The corrected value of the wrong field.")
    trait: str | None = Field(default=None, max_length=200, description="The trait it corrects (the field by default).")


class CloseIn(BaseModel):
    root_cause: str = Field(max_length=2000)
    corrective_action: str = Field(max_length=2000)


class ErrorIdsIn(BaseModel):
    error_ids: list[Id] = Field(min_length=1, max_length=1000)


class ErrorOut(BaseModel):
    """A report with its harm, severity (and why), owner, clocks and where it stands."""

    id: int
    profile_id: int | None
    case_id: int | None
    intake: str
    reporter: str
    field: str
    shown: str | None
    expected: str | None
    harm: str
    severity: str
    severity_reason: str
    owner_team: str
    status: str
    problem_id: int | None
    escalation_level: int
    correction_event_id: int | None
    resent_communication_id: str | None = Field(default=None, description="What it was corrected and re-sent as.")
    acknowledge_due_at: str
    resolve_due_at: str
    regulatory_due_at: str | None
    communication_ids: list[str]
    next_steps: list[str] = Field(default_factory=list, description="What happens next, in words for the customer.")

    model_config = {"extra": "allow"}


class ErrorListOut(BaseModel):
    errors: list[ErrorOut]


class ProblemOut(BaseModel):
    id: int
    title: str
    grouped_by: str
    status: str
    is_reopened: bool
    root_cause: str | None
    corrective_action: str | None
    error_count: int

    model_config = {"extra": "allow"}


class RecipientOut(BaseModel):
    communication_id: str
    profile_id: int | None
    channel: str
    is_reported: bool
    action: str | None
    notice_communication_id: str | None
    notice_status: str | None


class BlastRadiusOut(BaseModel):
    total: int = Field(description="Communications the problem's runs sent.")
    reported: int
    others: int
    runs: list[dict[str, str | None]]
    recipients: list[RecipientOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


class NotifiedOut(BaseModel):
    notified: int
    skipped: int
