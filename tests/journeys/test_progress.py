"""Step rules, pure: conditional and optional steps, completion, quiet statuses, and a step's business-day SLA."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from seamline.cases.sla import BusinessCalendar
from seamline.journeys import progress
from seamline.journeys.definitions import parse_definition

DEFINITION = parse_definition(
    """journey: open_account
stall_after: 2d
abandon_after: 10d
steps:
  - key: kind
    fields: [{key: kind, required: true}]
  - key: joint
    when: {field: kind, equals: joint}
    fields: [{key: partner, required: true}]
  - key: newsletter
    optional: true
  - key: documents
    sla: {business_days: 2}
""",
    "open_account.yaml",
)
CALENDAR = BusinessCalendar(ZoneInfo("Europe/London"), frozenset(range(5)), time(9), time(17))


def test_a_conditional_step_applies_only_when_its_field_says_so_and_optional_steps_never_block() -> None:
    assert progress.current_step(DEFINITION, (), {}) == "kind"
    assert progress.current_step(DEFINITION, {"kind"}, {"kind": "single"}) == "documents"
    assert progress.current_step(DEFINITION, {"kind"}, {"kind": "joint"}) == "joint"
    assert progress.is_done(DEFINITION, {"kind", "documents"}, {"kind": "single"})
    assert not progress.is_done(DEFINITION, {"kind", "documents"}, {"kind": "joint"})
    joint = DEFINITION.step("joint")
    assert joint is not None
    assert progress.missing_fields(joint, {"partner": ""}) == ["partner"]
    assert progress.unknown_fields(joint, ["partner", "shoe_size"]) == ["shoe_size"]


def test_quiet_journeys_stall_then_are_abandoned_and_finished_ones_stay() -> None:
    last = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert progress.quiet_status(DEFINITION, "open", last, last + timedelta(days=1)) == "open"
    assert progress.quiet_status(DEFINITION, "open", last, last + timedelta(days=2)) == "stalled"
    assert progress.quiet_status(DEFINITION, "stalled", last, last + timedelta(days=10)) == "abandoned"
    assert progress.quiet_status(DEFINITION, "completed", last, last + timedelta(days=99)) == "completed"


def test_a_step_waiting_on_the_bank_has_a_business_day_clock() -> None:
    step = DEFINITION.step("documents")
    assert step is not None
    friday_4pm = datetime(2026, 12, 4, 16, tzinfo=UTC)  # London is on UTC in December
    clock = progress.step_clock(step, CALENDAR, since=friday_4pm, done_at=None, now=friday_4pm + timedelta(days=3))
    assert clock is not None
    # Two business days of 8 hours from Friday 16:00: Friday's last hour, Monday's eight, Tuesday's first seven.
    assert clock.due_at == datetime(2026, 12, 8, 16, tzinfo=UTC)
    assert not clock.is_breached
    late = progress.step_clock(step, CALENDAR, since=friday_4pm, done_at=None, now=datetime(2026, 12, 9, tzinfo=UTC))
    assert late is not None
    assert late.is_breached


def test_a_value_given_again_is_the_same_whatever_its_case_and_spaces() -> None:
    assert progress.same_value(" Ann@Example.com", "ann@example.com")
    assert progress.same_value(90000, 90000.0)
    assert not progress.same_value("Ann", "Anne")
