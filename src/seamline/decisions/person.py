"""One read of what a decision needs of a person: a small fixed number of prepared statements on the driver (the
profile's header and merged profiles, its traits, holdings, consent choices, its decisions facts — purchases and
last showings in one statement —, active cases and the communications log when asked), in the caller's
transaction. Measured on SQLite: nine-odd SQLAlchemy queries took ~2.7 ms a decision, the prepared reads a
fraction of it. Rarely changing lookups (source names, each segment's propensity model) are kept for a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.cases.service import active_cases_count
from seamline.communications.contacts import contacts_since_of
from seamline.consent.policy import Reachability
from seamline.consent.service import may_contact_each
from seamline.core.prepared import DriverTransaction, Reads
from seamline.decisions import repository
from seamline.decisions.arbitration import OUTBOUND, Person
from seamline.decisions.catalog import Catalog
from seamline.decisions.conditions import Facts
from seamline.decisions.contact import Contact, class_of, zone_of
from seamline.decisions.plan import Model, plan_of
from seamline.decisions.propensity import Tally
from seamline.identity.service import active_header, members_of
from seamline.journeys.service import open_journeys
from seamline.profiles.service import golden_traits, open_holding_names
from seamline.sources.service import source_names

if TYPE_CHECKING:  # the service builds the setup and imports this module
    from seamline.decisions.service import Setup

CLOSED_HOLDINGS = frozenset({"closed", "cancelled", "refunded", "declined", "withdrawn"})
# Reachability is the outbox's to judge when a message leaves; a decision asks about permission.
_PERMISSION = Reachability(True, "reachability is checked when a message is sent")


@dataclass
class Kept:
    """Lookups kept for a short while per database: source names and each segment's model (Thompson sampling
    needs the counts, not the latest outcome: a second's delay does not change what is learned). A stale value is
    loaded again by the caller that finds it, in the caller's own transaction."""

    ttl: float = 1.0
    _values: dict[tuple[int, str], tuple[Any, float]] = field(default_factory=dict)

    def get(self, engine: Engine, key: str, load: Callable[[], Any]) -> Any:
        slot, now = (id(engine), key), time.monotonic()
        found = self._values.get(slot)
        if found is not None and found[1] > now:
            return found[0]
        value = load()
        self._values[slot] = (value, now + self.ttl)  # two threads loading at once both store: harmless
        return value

    def sources(self, engine: Engine) -> dict[int, str]:
        found: dict[int, str] = self.get(engine, "sources", lambda: source_names(engine, 0).get())
        return found


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def model_of(session: Session, catalog: Catalog, segment: str, kept: Kept) -> Model:
    """A segment's propensity model as arrays over the catalog, kept for `kept.ttl` seconds."""

    def load() -> Model:
        tallies = {
            t.action: Tally(t.shown, t.accepted, t.ignored, t.converted)
            for t in repository.tallies(session, segment)
        }  # fmt: skip
        return Model.of(plan_of(catalog), tallies)

    model: Model = kept.get(engine_of(session), f"model:{id(catalog)}:{segment}", load)
    return model


def person_facts(
    session: Session,
    profile_id: int,
    channel: str,
    setup: Setup,
    now: datetime,
) -> tuple[int, Person]:
    """Everything arbitration reads of a person (any of their merged profiles), for a channel; (root id, person)."""
    config, catalog = setup.config, setup.catalog
    # Every read below runs on the session's own driver connection, in its transaction: asking the session for its
    # connection once rather than once per statement.
    connection = session.connection()
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection in the session's transaction
    reads = DriverTransaction(connection.dialect, driver)
    root = int(active_header(reads, profile_id).id)
    members = members_of(reads, root)
    names = {*catalog.traits_read, config.timezone_trait, config.phone_trait, config.segment_trait}
    sources = setup.kept.sources(engine_of(session))
    traits: dict[str, Any] = {}
    for member in members:  # the root is first: its values win over an absorbed profile's leftovers
        for trait in golden_traits(reads, member, sources, setup.survivorship):
            if trait.name in names:
                traits.setdefault(trait.name, trait.value)
    since = now - timedelta(days=max(config.purchase_window_days, 365))
    purchases: list[tuple[str, datetime]] = []
    shown: dict[str, datetime] = {}
    for member in members:
        bought, last = repository.own_facts(reads, member, since)
        purchases += bought
        for action, at in last.items():
            shown[action] = max(at, shown.get(action, at))
    open_cases = active_cases_count(reads, root) if catalog.reads_cases else 0
    pairs = {(purpose, channel) for purpose in catalog.purposes}
    pairs |= {(p, c or channel) for p, c in catalog.consents_asked()}
    journeys: dict[str, str | None] = {}
    if catalog.reads_journeys:  # the most recently active instance of each journey speaks for it
        for instance in reversed(open_journeys(session, root)):
            journeys[instance.journey] = instance.current_step
    facts = Facts(
        traits, open_holding_names(reads, root, CLOSED_HOLDINGS), purchases, open_cases,
        _consents(reads, root, pairs, setup, now), now, channel, setup.product_names, journeys,
    )  # fmt: skip
    segment = str(traits.get(config.segment_trait) or "all")[:64]
    zone = zone_of(traits, config.timezone_trait, config.phone_trait, config.default_timezone)
    contacts: list[Contact] = []
    if channel in OUTBOUND:  # the budget is about messages: a page or an agent's screen need not read the log
        window = max([c.window_days for c in [*config.caps, *config.service_caps]] or [0.0])
        contacts = [Contact(at, class_of(p, t, u)) for at, p, t, u in contacts_since_of(
            reads, members, now - timedelta(days=window))]  # fmt: skip
    return root, Person(facts, zone, contacts, shown, segment)


def _consents(
    reads: Reads, root: int, pairs: set[tuple[str, str]], setup: Setup, now: datetime
) -> dict[tuple[str, str], bool]:
    consent = setup.consent
    # A purpose not configured is never allowed; a channel that is not a contact channel (an agent's screen, a
    # branch) asks about using the data for the purpose.
    asks = sorted(
        (purpose, channel if channel in consent.channels else "*") for purpose, channel in pairs
        if purpose in consent.purposes
    )  # fmt: skip
    answers = may_contact_each(reads, root, asks, reachability=_reach(channel_of(asks)), config=consent, now=now)
    out = {pair: False for pair in pairs}
    for purpose, channel in pairs:
        if purpose in consent.purposes:
            ask = (purpose, channel if channel in consent.channels else "*")
            out[(purpose, channel)] = answers[ask].allowed
    return out


def channel_of(asks: list[tuple[str, str]]) -> set[str]:
    return {channel for _purpose, channel in asks if channel != "*"}


def _reach(channels: set[str]) -> dict[str, Reachability]:
    return {channel: _PERMISSION for channel in channels}
