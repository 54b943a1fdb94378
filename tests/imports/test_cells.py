"""Email, phone and date cells are what the mapping says they are, and a row's every problem is named. Pure."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from seamline.identity.rules import IdentityConfig
from seamline.imports.cells import DATE_TRAITS, CellRules, cell_problems, date_problem, iso_date
from seamline.imports.mapping import RowProblem, load_mapping, row_to_messages

MAPPING = load_mapping(
    """
record_key: customer_no
identifiers: {email: email, phone: phone, crm_id: customer_no}
traits: {first_name: given_name, birthday: dob, email: work_email}
"""
)
RULES = CellRules.of(IdentityConfig(default_region="GB"))
GOOD = {
    "customer_no": "C1",
    "email": "ada@example.com",
    "phone": "020 7946 0018",  # a London number written the local way: the default region reads it
    "given_name": "Ada",
    "dob": "1815-12-10",
    "work_email": "",
}


def test_a_good_row_has_no_problem_and_empty_cells_state_nothing() -> None:
    assert cell_problems(GOOD, MAPPING, RULES) == []
    assert cell_problems({"customer_no": "C2"}, MAPPING, RULES) == []
    assert cell_problems({**GOOD, "phone": 442079460018, "dob": "1815-12-10T00:00:00"}, MAPPING, RULES) == []


def test_every_problem_of_a_row_is_named_with_its_column() -> None:
    bad = {**GOOD, "email": "ada@", "phone": "12", "dob": "1815-13-40", "work_email": "not an address"}
    assert cell_problems(bad, MAPPING, RULES) == [
        "email (column 'email'): 'ada@' is not a valid email address",
        "phone (column 'phone'): '12' is not a valid phone number (default region GB)",
        "email (column 'work_email'): 'not an address' is not a valid email address",
    ]
    # A birth date is read in the mapping's date format as the row becomes messages, and refused there with its
    # line and column, beside the cells' problems (one check per date, in the format it is written in).
    with pytest.raises(RowProblem) as refused:
        row_to_messages(bad, MAPPING, 7, "crm")
    assert any("column 'dob' (birthday): '1815-13-40' is not a date" in r for r in refused.value.reasons)
    with pytest.raises(RowProblem):
        row_to_messages({**GOOD, "dob": 18151210.5}, MAPPING, 7, "crm")


def test_a_declared_date_format_plugs_in_as_a_parser() -> None:
    def day_first(text: str) -> date:
        return datetime.strptime(text, "%d/%m/%Y").date()

    # A date trait the mapping does not read as a date (not a birth date, no `dates:` entry) is the cells' to check.
    mapping = load_mapping("record_key: customer_no\ntraits: {customer_since: since}\n")
    rules = CellRules.of(IdentityConfig(), dates={"customer_since": day_first})
    assert cell_problems({"customer_no": "C1", "since": "10/12/1815"}, mapping, rules) == []
    assert cell_problems({"customer_no": "C1", "since": "1815-12-10"}, mapping, rules) == [
        "customer_since (column 'since'): '1815-12-10' is not a date"
    ]
    assert date_problem("birthday", "dob", "2026-02-29") is not None
    assert iso_date("2024-02-29") == date(2024, 2, 29)
    assert set(RULES.dates) == set(DATE_TRAITS)
