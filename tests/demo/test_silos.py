"""The demo bank's silo exports: every record carries the product it is kept for, its traits land in the canonical
model, and every demo customer is found by the phone shown on their page."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import text

from seamline.console.search import find_customers
from seamline.core.db import unit_of_work
from seamline.demo.bank import DEMO_SEED, demo_people
from seamline.demo.silos import COLUMNS, SILOS, mistype_national_ids, silo_rows
from seamline.matching.findings import HeldId, findings_page
from seamline.matching.prepare import national_id_form
from seamline.matching.readback import import_sources
from seamline.matching.realtime import Matcher, MatchIndex
from seamline.matching.records import MatchingContext
from seamline.pipeline.registry import Pipeline
from seamline.profiles.service import golden_values
from seamline.sources.service import list_sources
from seamline.synthetic.silos import generate_silo_records
from tests.demo.conftest import PlayedDemo
from tests.support.flows import active_profiles


def test_every_silo_record_names_a_product_with_its_status_opening_and_balance() -> None:
    people = demo_people(200)
    records = generate_silo_records(people, DEMO_SEED)
    for silo in SILOS:
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in silo_rows(silo, records, people)]
        assert rows
        assert all(r["account_no"] and r["account_status"] and r["account_opened"] and r["balance"] for r in rows)
        held = {h.external_id for p in people for h in p.holdings if h.kind == silo.holding_type}
        assert any(r["account_no"] in held for r in rows)  # the person's own product where they have one


def test_demo_customers_show_products_canonical_traits_and_are_found_by_their_phone(played_demo: PlayedDemo) -> None:
    engine, settings = played_demo.engine, played_demo.settings
    with engine.connect() as conn:
        systems = conn.execute(text("SELECT profile_id, type FROM identifiers WHERE type LIKE 'ext:%_customer'")).all()
        products = conn.execute(
            text("SELECT h.profile_id, s.name FROM holdings h JOIN sources s ON s.id = h.source_id")
        ).all()
        trait_names = {r[0] for r in conn.execute(text("SELECT DISTINCT name FROM profile_traits"))}
    held_from: dict[int, set[str]] = defaultdict(set)
    for profile_id, source in products:
        held_from[profile_id].add(source)
    source_of = {f"ext:{s.system}_customer": s.source for s in SILOS}
    # Every customer a silo knows holds that silo's product: no "No products on record" beside a silo record.
    assert systems
    assert all(source_of[t] in held_from[pid] for pid, t in systems)
    # The golden record speaks one vocabulary: no silo's own field names.
    assert {"first_name", "last_name", "birthday", "address", "phone"} <= trait_names
    assert not trait_names & {"telephone", "date_of_birth", "street", "postcode", "city", "firstName", "lastName"}

    identity = Pipeline(settings.identity, settings.consent, settings.traits)
    matching = MatchingContext.build(settings.matching, identity, settings.survivorship, settings.data_dir)
    matcher = Matcher(matching, MatchIndex())
    with unit_of_work(engine, write=False) as session:
        names = {s.id: s.name for s in list_sources(session)}
        shown = golden_values(session, ["phone"], names, settings.survivorship, active_profiles(engine))
        not_found = []
        checked = 0
        for profile_id, values in shown.items():
            phone = values["phone"]
            found, _refused = identity.extractor.extract({"traits": {"phone": phone}})
            if not found:
                continue  # a placeholder (0000000000) is no phone number: nobody is found by it
            checked += 1
            if profile_id not in {r.profile_id for r in find_customers(session, str(phone), identity, matcher)}:
                not_found.append((profile_id, phone))
    assert checked > 500
    assert not_found == []


def test_the_demo_mistypes_one_customers_id_in_two_systems_and_matching_joins_all_three(
    played_demo: PlayedDemo,
) -> None:
    records = generate_silo_records(demo_people(), DEMO_SEED)
    mistyped = mistype_national_ids(records)
    changed = [(a, b) for a, b in zip(records, mistyped, strict=True) if a != b]
    assert sorted(before.system for before, _after in changed) == ["cards", "checking"]
    assert len({before.person_key for before, _after in changed}) == 1
    true_id = national_id_form(str(changed[0][0].national_id))
    with unit_of_work(played_demo.engine, write=False) as session:
        page = findings_page(session, import_sources(session))
    wrong = {national_id_form(str(after.national_id)): after for _before, after in changed}
    assert len(wrong) == 2
    assert true_id not in wrong
    held: dict[str, HeldId] = {h.value: h for f in page.findings for h in f.ids if h.value in {true_id, *wrong}}
    assert set(held) == {true_id, *wrong}
    # one profile holds all three ids: the true one and each system's mistyped one
    assert len({h.profile_id for h in held.values()}) == 1
    source_of = {silo.system: silo.source for silo in SILOS}  # each demo silo imports into its own source
    for value, after in wrong.items():
        system = source_of[after.system]
        assert held[value].systems == [system]
        assert held[value].records == [f"{system}:{after.record_key}"]
        assert system not in held[true_id].systems
