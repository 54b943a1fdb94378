"""Consent columns in an import mapping become versions in the consent ledger, through the worker, and the one
policy decides from them like from any other choice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from seamline.config import Settings
from seamline.consent.policy import Reachability
from seamline.consent.service import history, may_contact_profile
from seamline.core.db import unit_of_work
from seamline.imports.mapping import load_mapping
from seamline.imports.query import safe_url
from seamline.imports.service import ImportRefused, import_file, import_query, validate_file
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding

MAPPING = load_mapping(
    """
record_key: customer_no
identifiers: {email: email, phone: phone}
consent:
  legal_basis: consent
  at: consent_at
  evidence: [form_version]
  choices:
    - {column: email_ok, purpose: marketing, channel: email}
    - {column: sms_ok, purpose: marketing, channel: sms, product_column: card_no}
"""
)
HEADER = "customer_no,email,phone,email_ok,sms_ok,card_no,consent_at,form_version\n"
ADA = "C1,ada@example.com,+14155550101,yes,no,CC-1,2024-01-05T10:00:00Z,v3\n"
BOB = "C2,bob@example.com,+14155550102,denied,,,2024-02-01,v3\n"
REACH = {channel: Reachability(True, f"{channel}: on file") for channel in ("email", "sms")}


def _file(tmp_path: Path, rows: list[str], name: str = "consent.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _may(engine: Engine, settings: Settings, who: str, channel: str, product: str | None = None) -> bool:
    with unit_of_work(engine, write=False) as session:
        decision = may_contact_profile(
            session,
            profile_holding(engine, who),
            "marketing",
            channel,
            product=product,
            reachability=REACH,
            config=settings.consent,
        )
    return decision.allowed


def test_consent_columns_become_versions_with_the_import_as_source_and_evidence(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    source, _ = make_source(engine, "crm", "import")
    result = import_file(engine, "crm", _file(tmp_path, [ADA, BOB]), MAPPING, consent=settings.consent)
    assert result.messages == 5  # two identifies, Ada's two choices, Bob's one (his empty sms_ok states nothing)
    drain(engine, settings)
    assert _may(engine, settings, "email:ada@example.com", "email") is True
    assert _may(engine, settings, "email:ada@example.com", "sms", product="CC-1") is False
    assert _may(engine, settings, "email:bob@example.com", "email") is False
    with unit_of_work(engine, write=False) as session:
        ada = history(session, profile_holding(engine, "email:ada@example.com"))
    by_channel = {c.channel: c for c in ada}
    email = by_channel["email"]
    assert (email.value, email.surface, email.actor, email.legal_basis, email.source_id) == (
        "granted",
        "import",
        "import:crm",
        "consent",
        source.id,
    )
    assert email.effective_at == datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
    assert email.evidence["form_version"] == "v3"
    assert email.evidence["import"] == {"file": "consent.csv", "line": 2}
    assert (by_channel["sms"].value, by_channel["sms"].product) == ("denied", "CC-1")


def test_reimporting_consent_adds_no_version_and_a_changed_choice_adds_one(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    make_source(engine, "crm", "import")
    import_file(engine, "crm", _file(tmp_path, [ADA, BOB]), MAPPING, consent=settings.consent)
    drain(engine, settings)
    # The same rows from another file, in another order: the same choices, so nothing new.
    again = import_file(engine, "crm", _file(tmp_path, [BOB, ADA], "again.csv"), MAPPING, consent=settings.consent)
    assert again.new_events == 0
    withdrawn = ADA.replace(",yes,", ",opt-out,").replace("2024-01-05T10:00:00Z", "2024-03-01T09:00:00Z")
    changed = import_file(engine, "crm", _file(tmp_path, [withdrawn, BOB], "later.csv"), MAPPING)
    assert changed.new_events == 2  # Ada's identify is unchanged; her two choices carry a new time
    drain(engine, settings)
    assert _may(engine, settings, "email:ada@example.com", "email") is False
    with unit_of_work(engine, write=False) as session:
        versions = history(session, profile_holding(engine, "email:ada@example.com"))
    assert sorted((c.channel, c.value) for c in versions) == [
        ("email", "denied"),
        ("email", "granted"),
        ("sms", "denied"),
        ("sms", "denied"),
    ]


def test_a_bad_consent_cell_refuses_the_file_naming_its_line(engine: Engine, tmp_path: Path) -> None:
    make_source(engine, "crm", "import")
    rows = [ADA, BOB.replace("denied", "maybe"), ADA.replace("C1", "C3").replace("2024-01-05T10:00:00Z", "soon")]
    with pytest.raises(ImportRefused) as caught:
        import_file(engine, "crm", _file(tmp_path, rows), MAPPING)
    assert [(e.line, e.reason.split(":")[0]) for e in caught.value.report.errors] == [
        (3, "consent column 'email_ok'"),
        (4, "consent time column 'consent_at'"),
    ]


def test_a_consent_section_the_configuration_does_not_know_is_refused_before_reading(tmp_path: Path) -> None:
    mapping = load_mapping(
        """
record_key: customer_no
consent:
  legal_basis: whim
  choices: [{column: email_ok, purpose: telepathy, channel: email}]
"""
    )
    report = validate_file(_file(tmp_path, [ADA]), mapping, "crm")
    assert report.rows == 0
    assert {e.reason.split(":")[0] for e in report.errors} == {
        "mapping consent.choices.0.purpose",
        "mapping consent.choices.0.legal_basis",
    }


def test_consent_from_a_query_names_the_database_query_and_row_as_evidence(
    engine: Engine, settings: Settings, source_db_url: str
) -> None:
    make_source(engine, "crm", "import")
    crm = create_engine(source_db_url)
    with crm.begin() as conn:
        conn.execute(text("CREATE TABLE consents (customer_no VARCHAR(9), email VARCHAR(99), email_ok BOOLEAN)"))
        conn.execute(
            text("INSERT INTO consents VALUES ('C1', 'ada@example.com', true), ('C2', 'bob@example.com', false)")
        )
    crm.dispose()
    mapping = load_mapping(
        "record_key: customer_no\nidentifiers: {email: email}\n"
        "consent: {choices: [{column: email_ok, purpose: marketing, channel: email}]}\n"
    )
    query = "SELECT customer_no, email, email_ok FROM consents ORDER BY customer_no"
    import_query(engine, "crm", source_db_url, query, mapping, consent=settings.consent)
    drain(engine, settings)
    assert _may(engine, settings, "email:ada@example.com", "email") is True
    assert _may(engine, settings, "email:bob@example.com", "email") is False
    with unit_of_work(engine, write=False) as session:
        (bob,) = history(session, profile_holding(engine, "email:bob@example.com"))
    assert bob.evidence["import"] == {"database": safe_url(source_db_url), "query": query, "row": 2}
