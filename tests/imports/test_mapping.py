"""The mapping and one row turned into messages: pure, no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from seamline.core.errors import InvalidInput
from seamline.imports.mapping import ImportMapping, RowProblem, load_mapping, missing_columns, row_to_messages
from seamline.imports.reader import RowFile

MAPPING = load_mapping(
    """
format: csv
record_key: customer_no
identifiers: {email: email, phone: phone, crm_id: customer_no, user_id: login}
traits: {first_name: given_name, city: city}
holdings:
  - {type: checking_account, id: account_no, status: account_status}
"""
)
ROW = {
    "customer_no": "C-1",
    "email": "ada@example.com",
    "phone": "",
    "login": "ada",
    "given_name": "Ada",
    "city": "London",
    "account_no": "CHK-1",
    "account_status": "open",
}


def test_a_row_becomes_one_identify_and_one_group_per_holding() -> None:
    identify, group = row_to_messages(ROW, MAPPING, 2, "crm")
    assert identify["type"] == "identify"
    assert identify["anonymousId"] == "crm:C-1"
    assert identify["userId"] == "ada"
    assert identify["traits"] == {"email": "ada@example.com", "first_name": "Ada", "city": "London"}
    assert identify["context"] == {
        "externalIds": [{"id": "C-1", "type": "crm_id", "collection": "users", "encoding": "none"}]
    }
    assert group["groupId"] == "CHK-1"
    assert group["traits"] == {"holding_type": "checking_account", "status": "open"}
    assert group["userId"] == "ada"


def test_message_ids_are_stable_and_change_with_the_content() -> None:
    first = [m["messageId"] for m in row_to_messages(ROW, MAPPING, 2, "crm")]
    assert first == [m["messageId"] for m in row_to_messages(dict(ROW), MAPPING, 9, "crm")]
    moved = [m["messageId"] for m in row_to_messages({**ROW, "city": "Paris"}, MAPPING, 2, "crm")]
    assert moved[0] != first[0]
    assert moved[1] == first[1]  # the holding did not change
    assert [m["messageId"] for m in row_to_messages(ROW, MAPPING, 2, "web")] != first


def test_a_row_without_its_key_or_holding_is_handled() -> None:
    with pytest.raises(RowProblem, match="record key column 'customer_no' is empty") as caught:
        row_to_messages({**ROW, "customer_no": " "}, MAPPING, 7, "crm")
    assert caught.value.line == 7
    only_identify = row_to_messages({**ROW, "account_no": ""}, MAPPING, 2, "crm")
    assert [m["type"] for m in only_identify] == ["identify"]


def test_every_problem_of_a_row_is_named_not_only_the_first() -> None:
    mapping = load_mapping(
        """
record_key: customer_no
identifiers: {email: email, crm_id: customer_no}
holdings:
  - {type: checking_account, id: account_no}
"""
    )
    with pytest.raises(RowProblem) as caught:
        row_to_messages({"customer_no": "", "email": ["a@example.com"], "account_no": {"n": 1}}, mapping, 9, "crm")
    assert caught.value.reasons == (
        "the record key column 'customer_no' is empty",
        "identifier 'email' (column 'email') must be text or a number",
        "holding id (column 'account_no') must be text or a number",
    )
    assert caught.value.reason == caught.value.reasons[0]


def test_mapping_problems_are_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_mapping("record_key: id\ntraits: {a: b}\nextra: 1\n")
    assert [e.field for e in caught.value.errors] == ["extra"]
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_mapping("record_key: [")
    assert missing_columns(["customer_no", "email"], ImportMapping(record_key="customer_no", traits={"x": "y"})) == [
        "y"
    ]


def test_rows_are_streamed_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,x\n3\n', encoding="utf-8")
    with RowFile(path, "csv") as rows:
        stream = rows.rows()
        assert iter(stream) is stream  # a generator: one row at a time, never the whole file
        read = list(stream)
    assert read[0] == (2, {"id": "1", "note": "two\nlines"})
    assert read[1] == (5, {"id": "2", "note": "x"})
    assert read[2][0] == 6
    assert isinstance(read[2][1], RowProblem)
