"""Each report against figures computed by hand on the small ecosystem (tests/assessment/ecosystem.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from seamline.assessment.inventory import NEVER_SENT, UNDECLARED
from seamline.assessment.redundancy import CollectionPoint
from seamline.assessment.scope import Scope, scope_of
from seamline.core.db import unit_of_work
from seamline.outbox.models import OutboxMessage
from tests.assessment.ecosystem import T0, T1, build


def test_inventory_counts_each_communication_and_flags_undeclared_and_never_sent(
    engine: Engine, tmp_path: Path
) -> None:
    rows = {r.communication: r for r in build(engine, tmp_path).inventory()}
    assert set(rows) == {"stmt", "card_notice", "promo-x", "survey"}
    card, stmt, promo, survey = rows["card_notice"], rows["stmt"], rows["promo-x"], rows["survey"]
    assert (card.volume, card.held, card.error_rate, card.flags) == (5, 1, 0.25, ())  # 1 bounce of 4 attempted
    assert (card.platforms, card.channels, card.source_systems, card.versions) == (
        ("mailer",), ("email",), ("cards",), ("3",),
    )  # fmt: skip
    assert (card.owner, card.consent_basis, card.may_opt_out) == ("cards-team", "consent for service", True)
    assert (stmt.volume, stmt.error_rate, stmt.batches, stmt.cadence) == (4, 0.25, 1, "once")
    assert stmt.first_sent is not None
    assert stmt.first_sent.isoformat() == "2026-12-01T08:00:00+00:00"
    assert (promo.flags, promo.volume, promo.error_rate, promo.owner) == ((UNDECLARED,), 2, 0.5, None)
    assert (survey.flags, survey.volume) == ((NEVER_SENT,), 0)
    record = card.as_record()
    assert record["channels"] == "email"
    assert record["flags"] == ""


def test_flow_map_sums_volumes_and_failures_on_every_edge(engine: Engine, tmp_path: Path) -> None:
    assessment = build(engine, tmp_path)
    flow = assessment.flow_map()
    assert flow.total == 11
    edges = {(e["source"], e["target"]): (e["volume"], e["failed"]) for e in flow.as_data()["edges"]}
    assert edges == {
        ("core-banking", "print-vendor"): (4, 1), ("print-vendor", "stmt"): (4, 1), ("stmt", "paper"): (4, 1),
        ("cards", "mailer"): (5, 1), ("mailer", "card_notice"): (5, 1), ("card_notice", "email"): (5, 1),
        ("crm", "martech"): (2, 1), ("martech", "promo-x"): (2, 1), ("promo-x", "sms"): (2, 1),
    }  # fmt: skip
    nodes = [(n.stage, n.name, n.volume) for n in flow.nodes]
    assert nodes[0] == ("source_system", "cards", 5)  # busiest first in each stage
    focused = assessment.flow_map(Scope(focus={"channel": "sms"})).as_data()["edges"]  # a click on "sms"
    assert {(e["source"], e["target"]): e["volume"] for e in focused} == {
        ("crm", "martech"): 2, ("martech", "promo-x"): 2, ("promo-x", "sms"): 2,
    }  # fmt: skip


def test_effectiveness_rates_conversion_cost_and_contacts_after(engine: Engine, tmp_path: Path) -> None:
    rows = {(r.channel, r.communication): r for r in build(engine, tmp_path).effectiveness()}
    card = rows[("email", "card_notice")]
    assert (card.volume, card.held, card.sent) == (5, 1, 4)
    assert (card.delivery_rate, card.open_rate, card.click_rate) == (0.75, 0.5, 0.25)
    assert (card.goal_event, card.conversion_rate) == ("Card Activated", 0.25)  # only profile 1 within 2 days
    assert (card.failure_rate, card.contacts_after, card.contacts_after_rate) == (0.25, 1, 0.25)
    assert card.cost is None
    stmt = rows[("paper", "stmt")]
    assert (stmt.sent, stmt.delivery_rate, stmt.open_rate, stmt.conversion_rate) == (4, 0.75, None, None)
    assert (stmt.contacts_after, stmt.cost_per_message, stmt.cost) == (1, 0.8, 3.2)
    promo = rows[("sms", "promo-x")]
    assert (promo.failure_rate, promo.contacts_after_rate) == (0.5, 0.0)


def test_bottlenecks_give_latency_percentiles_and_rank_the_worst_break_first(engine: Engine, tmp_path: Path) -> None:
    found = build(engine, tmp_path).bottlenecks()
    card = next(p for p in found.paths if p.communication == "card_notice")
    assert (card.send_p50_seconds, card.send_p95_seconds) == (60.0, 60.0)
    assert (card.delivery_p50_seconds, card.delivery_p95_seconds) == (900.0, 3330.0)  # of 300, 900, 3600 s
    assert (card.failed, card.bounced, card.held, card.held_reason) == (0, 1, 1, "quiet hours")
    kinds = {(b.kind, b.where.split(" → ")[2]): b.messages for b in found.breaks}
    assert kinds == {
        ("bounces", "card_notice"): 1, ("held", "card_notice"): 1, ("bounces", "stmt"): 1,
        ("failures", "promo-x"): 1, ("contacts after", "card_notice"): 1, ("contacts after", "stmt"): 1,
    }  # fmt: skip


def test_redundancy_finds_the_planted_double_collection(engine: Engine, tmp_path: Path) -> None:
    journeys = [
        CollectionPoint("mortgage", "2", "address", 10, 8, 1),
        CollectionPoint("mortgage", "3", "email", 10, 0, 0),
    ]
    found = build(engine, tmp_path).redundancy(journeys)
    assert [(r.place, r.field, r.asked, r.already_held, r.disagreed) for r in found] == [
        ("the mortgage journey at step 2", "address", 10, 8, 1),
        ("mortgage-app", "address", 4, 3, 1),
    ]
    app = found[1]
    assert app.first_holder == "branch"
    assert (
        app.sentence
        == "mortgage-app asks for the address; 75% already gave it to branch, and for 33% of them the two disagree."
    )
    assert found[0].sentence.startswith("the mortgage journey at step 2 asks for the address; 80% already gave it")


def test_dead_letters_count_under_the_path_of_the_communication_they_carried(engine: Engine, tmp_path: Path) -> None:
    assessment = build(engine, tmp_path)
    with unit_of_work(engine) as session:
        for delivery, status in (("c3", "dead"), ("c4", "dead"), ("not-a-message", "dead"), ("c1", "pending")):
            session.add(OutboxMessage(delivery_id=delivery, kind="email", target="smtp", payload={}, status=status,
                                      attempts=5, next_attempt_at=T1, created_at=T1))  # fmt: skip
    found = assessment.bottlenecks()
    card = next(p for p in found.paths if p.communication == "card_notice")
    assert card.dead == 2
    assert {(b.kind, b.where.split(" → ")[2]): b.messages for b in found.breaks}[("dead letters", "card_notice")] == 2
    statements_day = assessment.bottlenecks(scope_of(since=T0.date(), until=T0.date()))
    assert [p.dead for p in statements_day.paths] == [0]  # the statements' day: no card notice, no dead letter
