"""A silo export's product rows become holdings: product type, number, status, opening date and balance where the
export gives them (pure; the customer page showing them is in tests/console/test_holdings.py)."""

from __future__ import annotations

import re

import pytest

from seamline.imports.mapping import RowProblem, load_mapping, row_to_messages

MAPPING = load_mapping(
    """
record_key: customer_no
identifiers: {checking_customer: customer_no, email: email}
traits: {first_name: first_name, telephone: phone}
holdings:
  - {type: checking_account, id: account_no, status: account_status, opened: opened_on, balance: balance}
"""
)


def test_a_product_row_states_its_opening_date_and_balance() -> None:
    row = {
        "customer_no": "C-1",
        "email": "",
        "first_name": "Ada",
        "phone": "",
        "account_no": "CHK-1",
        "account_status": "open",
        "opened_on": "2019-03-31",
        "balance": "1,234.50",
    }
    _identify, group = row_to_messages(row, MAPPING, 2, "core-banking")
    assert group["groupId"] == "CHK-1"
    assert group["traits"] == {
        "holding_type": "checking_account",
        "status": "open",
        "opened_at": "2019-03-31",
        "balance": 1234.5,
    }
    bare = row_to_messages({**row, "opened_on": "", "balance": ""}, MAPPING, 2, "core-banking")[1]
    assert bare["traits"] == {"holding_type": "checking_account", "status": "open"}
    assert MAPPING.columns() >= {"opened_on", "balance"}


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [("balance", "lots", "balance (column 'balance') must be a number"), ("opened_on", "31/03/19", "opening date")],
)
def test_a_product_row_with_a_bad_date_or_balance_is_refused(column: str, value: str, says: str) -> None:
    row = {"customer_no": "C-1", "account_no": "CHK-1", "account_status": "open", column: value}
    with pytest.raises(RowProblem, match=re.escape(says)):
        row_to_messages(row, MAPPING, 7, "core-banking")
