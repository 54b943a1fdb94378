"""Dates and column templates in the import mapping: read into ISO as declared, or a row error naming the line and
the column. Pure."""

from __future__ import annotations

import pytest

from seamline.core.errors import InvalidInput
from seamline.imports.dates import parse_date
from seamline.imports.mapping import RowProblem, fill_template, load_mapping, row_to_messages

MAPPING = """
record_key: id
traits:
  first_name: given_name
  street: "{street_number} {address_1}"
  date_of_birth: dob
  opened_on: opened
dates:
  opened_on: day-first
"""


def test_dates_in_the_common_formats() -> None:
    assert parse_date("1980-02-03") == "1980-02-03"
    assert parse_date("1980-02-03T00:00:00") == "1980-02-03"
    assert parse_date("19800203") == "1980-02-03"
    assert parse_date("1980/2/3") == "1980-02-03"
    assert parse_date("03/02/1980", "day-first") == "1980-02-03"
    assert parse_date("02/03/1980", "month-first") == "1980-02-03"
    assert parse_date("03.02.1980", "day-first") == "1980-02-03"
    assert parse_date("1980-02-03", "day-first") == "1980-02-03"  # ISO is unambiguous in any order
    assert parse_date("03/02/1980") is None  # ambiguous unless the mapping says which order
    assert parse_date("19800230", "yyyymmdd") is None  # not a real date
    assert parse_date("13/13/1980", "month-first") is None


def test_a_row_reads_its_dates_and_templates() -> None:
    mapping = load_mapping(MAPPING)
    assert {"street_number", "address_1", "dob", "opened"} <= mapping.columns()
    row = {"id": "7", "given_name": "Ann", "street_number": "6", "address_1": "tullaroop street", "dob": "19081209"}
    traits = row_to_messages({**row, "opened": "31/12/2020"}, mapping, 2, "crm")[0]["traits"]
    assert traits == {
        "first_name": "Ann",
        "street": "6 tullaroop street",
        "date_of_birth": "1908-12-09",
        "opened_on": "2020-12-31",
    }
    # a missing part of a template is left out; a template with every part missing is no value
    assert fill_template("{street_number} {address_1}", {"address_1": "elm st", "street_number": ""}) == "elm st"
    assert fill_template("{street_number} {address_1}", {}) is None


def test_an_unreadable_date_is_a_row_error_naming_line_and_column() -> None:
    mapping = load_mapping(MAPPING)
    with pytest.raises(RowProblem) as found:
        row_to_messages({"id": "7", "dob": "12/09/1908"}, mapping, 5, "crm")
    assert found.value.line == 5
    assert "'dob'" in str(found.value)
    assert "date_of_birth" in str(found.value)


def test_dates_must_name_mapped_traits_and_known_formats() -> None:
    with pytest.raises(InvalidInput) as unknown:
        load_mapping("record_key: id\ntraits: {dob: dob}\ndates: {birthday: day-first}\n")
    assert "birthday" in str(unknown.value.errors)
    with pytest.raises(InvalidInput) as bad:
        load_mapping("record_key: id\ntraits: {dob: dob}\ndates: {dob: yyyy}\n")
    assert bad.value.errors[0].field == "dates.dob"
