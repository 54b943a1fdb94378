"""Wire shapes of the cases API (pydantic), apart from the tables and views they are made from.

Inputs take plain strings where the service checks the value (status, priority, channel…), so that every
refusal names its field the same way whether it came through the API, the console or the CLI.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from seamline.core.ids import Id


class AuthorIn(BaseModel):
    kind: str = Field(description="customer, agent or system", examples=["agent"])
    name: str = Field(description="A console user name, or the customer's name as they signed", examples=["maria"])


class EntryIn(BaseModel):
    channel: str = Field(description="phone, email, chat, sms, web, app, branch, console, social, post or api")
    direction: str = Field(description="inbound (the customer), outbound (to the customer) or internal (a note)")
    body: str = Field(max_length=20_000)
    author: AuthorIn

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "channel": "chat",
                    "direction": "outbound",
                    "body": "I have unblocked your card; please try the payment again.",
                    "author": {"kind": "agent", "name": "maria"},
                }
            ]
        }
    }


class CaseIn(BaseModel):
    profile_id: Id = Field(description="Any id of the customer's profile; merged ids are followed.")
    subject: str = Field(max_length=300)
    channel: str = Field(description="The channel the matter came in on.")
    priority: str = Field(default="normal", description="urgent, high, normal or low")
    queue: str | None = Field(default=None, description="Default: the configured default queue.")
    entry: EntryIn | None = Field(default=None, description="The first message or note of the thread.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "profile_id": 42,
                    "subject": "Card declined abroad",
                    "channel": "phone",
                    "priority": "high",
                    "queue": "cards",
                    "entry": {
                        "channel": "phone",
                        "direction": "internal",
                        "body": "Customer is in Lisbon; card declined at a hotel.",
                        "author": {"kind": "agent", "name": "maria"},
                    },
                }
            ]
        }
    }


class InboundIn(BaseModel):
    customer: str = Field(description="An identifier of the customer, type:value, normalized like the worker does.")
    channel: str = Field(examples=["email"])
    body: str = Field(max_length=20_000)
    author_name: str | None = Field(default=None, description="How the customer signed; default: the identifier.")
    subject: str | None = Field(default=None, description="Used when a new case is opened; default: the body.")
    queue: str | None = None
    priority: str = "normal"

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "customer": "email:ann@example.com",
                    "channel": "email",
                    "body": "My card still does not work.",
                    "author_name": "Ann Smith",
                    "subject": "Card declined",
                }
            ]
        }
    }


class HandoffIn(BaseModel):
    verified: str = Field(default="", description="What was verified about the caller, and how.")
    customer_said: str = Field(default="", description="What the customer already told us.")
    tried: str = Field(default="", description="What was tried, and what happened.")
    next_step: str = Field(default="")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "verified": "Date of birth and the last card transaction",
                    "customer_said": "Card declined at a hotel in Lisbon since Monday",
                    "tried": "Reset the travel flag; the payment still fails",
                    "next_step": "Fraud team to check the block",
                }
            ]
        }
    }


class StatusIn(BaseModel):
    status: str = Field(description="open, pending-customer, resolved or closed", examples=["pending-customer"])
    reason: str | None = None


class ReasonIn(BaseModel):
    reason: str | None = Field(default=None, examples=["Customer confirmed the card works"])


class PriorityIn(BaseModel):
    priority: str = Field(examples=["urgent"])
    reason: str | None = None


class AssignIn(BaseModel):
    assignee: str | None = Field(description="A console user name; null to unassign.", examples=["maria"])
    queue: str | None = Field(default=None, description="Also move the case to this queue.")


class PickUpIn(BaseModel):
    agent: str = Field(description="The console user taking the case.", examples=["maria"])


class EscalateIn(BaseModel):
    reason: str = Field(description="Why; required.", examples=["Suspected fraud; needs a supervisor"])
    queue: str | None = Field(default=None, description="Default: the configured supervisor queue.")


class ClockOut(BaseModel):
    target_minutes: int
    due_at: str | None
    elapsed_minutes: float
    remaining_minutes: float
    state: str = Field(description="running, paused (pending-customer), met or stopped")
    is_breached: bool
    stopped_at: str | None


class SlaOut(BaseModel):
    first_response: ClockOut
    resolution: ClockOut
    is_overdue: bool


class HandoffOut(BaseModel):
    version: int
    verified: str
    customer_said: str
    tried: str
    next_step: str
    author: str
    surface: str
    created_at: str | None


class EntryOut(BaseModel):
    id: int
    kind: str = Field(description="message, note, or event (a change to the case)")
    channel: str
    direction: str
    author: dict[str, str]
    body: str
    status: str | None = Field(description="The status the case entered with this entry, if it changed.")
    detail: dict[str, Any]
    surface: str
    created_at: str | None


class JourneyRefOut(BaseModel):
    instance_id: str = Field(description="The journey instance the case hands over (GET /v1/journeys/{id}).")
    step: str | None = Field(description="The step it was at when it was handed over.")


class CaseOut(BaseModel):
    id: int
    handoff: HandoffOut | None = Field(description="The current handoff summary: read this first.")
    profile_id: int
    origin_profile_id: int
    subject: str
    priority: str
    status: str
    queue: str
    channel: str
    opened_by: str
    assignee: str | None
    opened_at: str | None
    updated_at: str | None
    first_response_at: str | None
    resolved_at: str | None
    closed_at: str | None
    escalation: dict[str, Any] | None
    sla: SlaOut
    entries: list[EntryOut] | None = Field(default=None, description="The whole thread, oldest first.")
    journey: JourneyRefOut | None = Field(default=None, description="The journey the case hands over, if any.")


class CasePageOut(BaseModel):
    cases: list[CaseOut]
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null at the end.")


class InboundOut(BaseModel):
    is_new_case: bool
    case: CaseOut
    entry: EntryOut
