"""Documents follow the delivery preference: paper makes a print row, paperless sends email and no print row."""

from __future__ import annotations

import csv
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import view
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from tests.communications.conftest import deliver, queue
from tests.support.people import person
from tests.support.smtp import Mailbox


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


STATEMENT = {"first_name": "Ada", "product_name": "Mortgage", "balance": "182,400.00"}


def test_going_paperless_on_the_card_makes_the_mortgage_statement_electronic_with_no_print_row(
    client: TestClient, engine: Engine, mail_settings: Settings, smtp: tuple[Mailbox, int]
) -> None:
    ada = person(client, engine, mail_settings)
    on_paper = queue(engine, mail_settings, ada, "statement_ready", STATEMENT, product="mortgage-1")
    deliver(engine, mail_settings)
    [batch] = (mail_settings.data_dir / "print").glob("print-*.csv")
    rows = _rows(batch)
    assert [(r["communication_id"], r["profile_id"]) for r in rows] == [(on_paper.communication_id, str(ada))]
    assert "182,400.00" in rows[0]["text"]
    assert smtp[0].messages == []

    # "Go paperless" on the card page is a customer-wide choice: it covers every product without its own choice.
    with unit_of_work(engine) as session:
        record_choice(
            session, ada, kind="delivery", document_type="statements", value="electronic",
            actor="customer", surface="web", evidence={"page": "card settings"}, config=mail_settings.consent,
        )  # fmt: skip
    electronic = queue(engine, mail_settings, ada, "statement_ready", STATEMENT, product="mortgage-1")
    deliver(engine, mail_settings)

    assert [m["Subject"] for m in smtp[0].messages] == ["Your Mortgage statement is ready"]
    assert len(_rows(batch)) == 1  # no new print row anywhere
    assert len(list((mail_settings.data_dir / "print").glob("print-*.csv"))) == 1
    with unit_of_work(engine, write=False) as session:
        assert (view(session, on_paper.communication_id).channel, view(session, on_paper.communication_id).status) == (
            "paper", "printed",
        )  # fmt: skip
        assert view(session, electronic.communication_id).channel == "email"
        assert view(session, electronic.communication_id).status == "accepted"
