"""Rule files are checked when they are loaded: a bad one is refused with its file, line and field, and a folder
with a bad file leaves the rules that were running in force."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from seamline.triggers.book import RuleBook, load_rules
from seamline.triggers.matching import RuleIndex, in_window
from seamline.triggers.rules import RuleError, parse_rule
from tests.triggers.world import START

GOOD = """
name: stall
on:
  event: Journey Stalled
  where: {journey: mortgage-application, amount: {gte: 250000}}
do:
  task: {title: Call them, queue: mortgages}
"""
TEMPLATES = frozenset({"journey_reminder"})


def _error(text: str) -> RuleError:
    with pytest.raises(RuleError) as caught:
        parse_rule(text, "rules/bad.yaml", templates=TEMPLATES)
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("on: {event: X}\ndo:\n  send: journey_reminder\n  delay: tomorrow\n", 4, "do[0].delay", "a duration"),
        ("on: {event: X}\ndo:\n  send: welcome_pack\n", 3, "do[0].send", "no template 'welcome_pack'"),
        ("on: {event: X}\nwhen: later\ndo: {send: journey_reminder}\n", 2, "when", "unknown field"),
        ("on: {event: X, trait: y}\ndo: {send: journey_reminder}\n", 1, "on", "exactly one of event, trait, holding"),
        ("on:\n  event: X\n  where: {amount: {above: 3}}\ndo: {call: crm}\n", 3, "on.where.amount", "one operator"),
        ("on: {event: X}\ndo:\n  task: {queue: q}\n", 3, "do[0].task.title", "a title is needed"),
        ("on: {event: X}\ndo:\n  task: {title: t, priority: asap}\n", 3, "do[0].task.priority", "one of urgent"),
        ("on: {event: X}\ncount: {at_least: 0}\ndo: {call: crm}\n", 2, "count.at_least", "a whole number"),
        (
            "on: {event: X}\ndo:\n  send: journey_reminder\n  window: {from: '20:00', to: '08:00'}\n",
            4,
            "do[0].window.to",
            "must be after from",
        ),
        ("on: {event: X}\n", 1, "do", "is required"),
        ("on: {event: X\ndo: [\n", 2, "yaml", "not valid YAML"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_file_line_and_field(
    text: str, line: int | None, field: str, words: str
) -> None:
    error = _error(text)
    assert (error.file, error.field) == ("rules/bad.yaml", field)
    if line is not None:
        assert error.line == line
    assert words in error.problem
    assert str(error).startswith(f"rules/bad.yaml{':' + str(line) if line else ''}: {field}: ")


def test_a_good_rule_reads_its_key_on_as_written_and_its_conditions() -> None:
    rule = parse_rule(GOOD, "rules/stall.yaml")
    assert (rule.kind, rule.subject) == ("event", "Journey Stalled")
    assert [(c.path, c.op, c.value) for c in rule.where] == [
        ("journey", "eq", "mortgage-application"),
        ("amount", "gte", 250000),
    ]
    [step] = rule.steps
    assert (step.action, step.target, step.delay) == ("task", "mortgages", timedelta(0))


def test_rules_are_found_by_what_starts_them() -> None:
    rules = [parse_rule(GOOD.replace("name: stall", f"name: r{i}"), f"r{i}.yaml") for i in range(3)]
    index = RuleIndex(rules)
    assert "Journey Stalled" in index.events
    assert "Page Viewed" not in index.events


def test_a_send_window_moves_a_step_to_the_next_opening() -> None:
    rule = parse_rule("on: {event: X}\ndo:\n  call: crm\n  window: {from: '09:00', to: '20:00', timezone: "
                      "Europe/London}\n", "w.yaml")  # fmt: skip
    window = rule.steps[0].window
    late = START.replace(hour=21)  # 21:00 UTC = 21:00 in London in winter
    moved = in_window(late, window, window.zone)  # type: ignore[union-attr,arg-type]  # the rule parsed above has a window with a zone
    assert (moved - late, moved.hour) == (timedelta(hours=12), 9)
    assert in_window(START, window, window.zone) == START  # type: ignore[union-attr,arg-type]  # the rule parsed above has a window with a zone


def test_a_folder_with_a_bad_file_keeps_the_running_rules(tmp_path: Path) -> None:
    (tmp_path / "stall.yaml").write_text(GOOD, encoding="utf-8")
    book = RuleBook(tmp_path, reload_seconds=0)
    assert [r.name for r in book.index.rules] == ["stall"]
    (tmp_path / "broken.yaml").write_text("on: {event: X}\ndo: {send: 3}\n", encoding="utf-8")
    book.refresh()
    assert [r.name for r in book.index.rules] == ["stall"]
    assert book.error is not None
    assert book.error.file.endswith("broken.yaml")
    assert book.error.line == 2
    (tmp_path / "broken.yaml").write_text(GOOD.replace("name: stall", "name: second"), encoding="utf-8")
    book.refresh()
    assert sorted(r.name for r in book.index.rules) == ["second", "stall"]
    assert book.error is None


def test_two_files_may_not_name_the_same_rule(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(RuleError, match="also defined in"):
        load_rules(tmp_path)
