"""The customer page shows every product from every silo, with its opening date and balance (SQLite and
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from tests.console.conftest import SignIn
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding


def test_every_product_from_every_silo_is_on_the_customer_page(
    console: TestClient, sign_in: SignIn, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    for source, system, product, number, opened, balance in (
        ("core-banking", "checking", "checking_account", "CHK-1", "2019-03-31", "1234.50"),
        ("cards-system", "cards", "credit_card", "CC-7", "2021-06-01", "-250.00"),
        ("mortgage-system", "mortgage", "mortgage", "MTG-3", "2015-01-15", "-180000"),
    ):
        make_source(engine, source, "import")
        path = tmp_path / f"{system}.csv"
        path.write_text(
            "customer_no,email,first_name,phone,account_no,account_status,opened_on,balance\n"
            f"{system[:3].upper()}-C1,ada@example.com,Ada,,{number},active,{opened},{balance}\n",
            encoding="utf-8",
        )
        mapping = load_mapping(
            f"""
record_key: customer_no
identifiers: {{{system}_customer: customer_no, email: email}}
traits: {{first_name: first_name, telephone: phone}}
holdings:
  - {{type: {product}, id: account_no, status: account_status, opened: opened_on, balance: balance}}
"""
        )
        import_file(engine, source, path, mapping)
    drain(engine, settings)
    ada = profile_holding(engine, "email:ada@example.com")
    with engine.connect() as conn:
        held = conn.execute(
            text("SELECT type, external_id, status, opened_at FROM holdings WHERE profile_id = :p ORDER BY type"),
            {"p": ada},
        ).all()
    assert [(t, n, s, str(o)[:10]) for t, n, s, o in held] == [
        ("checking_account", "CHK-1", "active", "2019-03-31"),
        ("credit_card", "CC-7", "active", "2021-06-01"),
        ("mortgage", "MTG-3", "active", "2015-01-15"),
    ]

    sign_in("agent")
    page = console.get(f"/console/customers/{ada}")
    assert page.status_code == 200
    assert "No products on record" not in page.text
    for shown in ("CHK-1", "CC-7", "MTG-3", "1,234.50", "-250.00", "-180,000.00", "2019-03-31", "Credit card"):
        assert shown in page.text
