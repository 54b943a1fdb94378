"""One read of what a decision needs of a person: a small fixed number of prepared statements on the driver (the
profile's header and merged profiles, its traits, holdings, consent choices, its decisions facts — purchases and
last showings in one statement —, active cases and the communications log when asked), in the caller's
transaction. Measured on SQLite: nine-odd SQLAlchemy queries took ~2.7 ms a decision, the prepared reads a
fraction of it. Rarely changing lookups (source names, each segment's propensity model) are kept for a second."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.cases.service import active_cases_count
from seamline.communications.contacts import contacts_since_of
from seamline.consent.config import ConsentConfig
from seamline.consent.service import contact_allowed
from seamline.core.prepared import DriverTransaction, Reads
from seamline.decisions import repository
from seamline.decisions.arbitration import OUTBOUND, Person
from seamline.decisions.catalog import Catalog
from seamline.decisions.conditions import Facts
from seamline.decisions.config import DecisionsConfig
from seamline.decisions.contact import Contact, class_of, zone_of
from seamline.decisions.plan import Model, plan_of
from seamline.decisions.propensity import Tally
from seamline.identity.service import active_header, members_of
from seamline.journeys.service import open_journeys_of
from seamline.profiles.service import open_holding_names, winning_traits
from seamline.sources.service import source_names

if TYPE_CHECKING:  # the service builds the setup and imports this module
    from seamline.decisions.service import Setup

CLOSED_HOLDINGS = frozenset({"closed", "cancelled", "refunded", "declined", "withdrawn"})


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


def on_driver(reads: Reads) -> DriverTransaction:
    """The driver connection of a session's transaction (asked once, not once per statement), or the snapshot."""
    if isinstance(reads, DriverTransaction):
        return reads
    connection = reads.connection()
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection in the session's transaction
    return DriverTransaction(connection.dialect, driver)


def model_of(reads: Reads, engine: Engine, catalog: Catalog, segment: str, kept: Kept) -> Model:
    """A segment's propensity model as arrays over the catalog, kept for `kept.ttl` seconds."""

    def load() -> Model:
        tallies = {
            action: Tally(shown, accepted, ignored, converted)
            for action, shown, accepted, ignored, converted in repository.segment_tallies(reads, segment)
        }  # fmt: skip
        return Model.of(plan_of(catalog), tallies)

    model: Model = kept.get(engine, f"model:{id(catalog)}:{segment}", load)
    return model


def person_facts(
    reads: Reads,
    engine: Engine,
    profile_id: int,
    channel: str,
    setup: Setup,
    now: datetime,
) -> tuple[int, Person]:
    """Everything arbitration reads of a person (any of their merged profiles), for a channel; (root id, person).
    `reads` is a unit of work's session or a read snapshot (the API's held connection)."""
    config, catalog = setup.config, setup.catalog
    asking = asking_in(setup, channel)
    # Every read below runs on the driver connection, in the caller's transaction.
    reads = on_driver(reads)
    root = int(active_header(reads, profile_id).id)
    members = members_of(reads, root)
    sources = setup.kept.sources(engine)
    if len(members) == 1:  # most people: one profile, whose values are the person's
        traits = winning_traits(reads, root, asking.traits, sources, setup.survivorship)
        purchases, shown = repository.own_facts(reads, root, now - asking.purchases_within)
    else:
        traits, purchases, shown = {}, [], {}
        for member in members:  # the root is first: its values win over an absorbed profile's leftovers
            for name, value in winning_traits(reads, member, asking.traits, sources, setup.survivorship).items():
                traits.setdefault(name, value)
        for member in members:
            bought, last = repository.own_facts(reads, member, now - asking.purchases_within)
            purchases += bought
            for action, at in last.items():
                shown[action] = max(at, shown.get(action, at))
    open_cases = active_cases_count(reads, root) if catalog.reads_cases else 0
    journeys = open_journeys_of(reads, [root]).get(root, {}) if catalog.reads_journeys else {}
    answers = contact_allowed(reads, root, asking.asks, config=setup.consent, now=now)
    consents = {pair: ask is not None and answers[ask] for pair, ask in asking.questions}
    facts = Facts(
        traits, open_holding_names(reads, root, CLOSED_HOLDINGS), purchases, open_cases, consents, now, channel,
        setup.product_names, journeys,
    )  # fmt: skip
    contacts: list[tuple[datetime, str | None, str, str | None]] = []
    if channel in OUTBOUND:  # the budget is about messages: a page or an agent's screen need not read the log
        contacts = contacts_since_of(reads, members, budget_since(config, now))
    return root, person_of(facts, contacts, shown, setup)


class Asking(NamedTuple):
    """What deciding in a channel reads and asks of anyone, worked out once per setup and channel (it was ~10% of a
    decision's CPU when worked out per person): the traits the catalog reads, how far back purchases count, and
    each (purpose, channel) pair's consent question."""

    traits: frozenset[str]
    purchases_within: timedelta
    questions: tuple[tuple[tuple[str, str], tuple[str, str] | None], ...]
    asks: list[tuple[str, str]]  # the distinct questions, sorted


def asking_in(setup: Setup, channel: str) -> Asking:
    """`Asking` for a channel (one the setup knows: `check_channel` comes first, so they are few)."""
    found = setup.asking.get(channel)
    if found is None:
        config, catalog = setup.config, setup.catalog
        traits = frozenset({*catalog.traits_read, config.timezone_trait, config.phone_trait, config.segment_trait})
        questions = consent_asks(consent_pairs(catalog, channel), setup.consent)
        asks = sorted({ask for ask in questions.values() if ask is not None})
        within = timedelta(days=max(config.purchase_window_days, 365))
        found = setup.asking[channel] = Asking(traits, within, tuple(questions.items()), asks)
    return found


def consent_pairs(catalog: Catalog, channel: str) -> set[tuple[str, str]]:
    """The (purpose, channel) pairs the catalog asks consent about in a channel."""
    pairs = {(purpose, channel) for purpose in catalog.purposes}
    return pairs | {(p, c or channel) for p, c in catalog.consents_asked()}


def budget_since(config: DecisionsConfig, now: datetime) -> datetime:
    """Since when the fatigue budget counts a person's messages: its longest window."""
    return now - timedelta(days=max([c.window_days for c in [*config.caps, *config.service_caps]] or [0.0]))


class _Zone:
    """A person's time zone, worked out the first time it is asked (a batch builds one per person: a small class
    costs a tenth of functools.cache's wrapper)."""

    __slots__ = ("_found", "_traits", "_where")

    def __init__(self, traits: Mapping[str, Any], where: tuple[str, str, str]) -> None:
        self._traits, self._where = traits, where
        self._found: ZoneInfo | None = None

    def __call__(self) -> ZoneInfo:
        if self._found is None:
            self._found = zone_of(self._traits, *self._where)
        return self._found


def person_of(
    facts: Facts,
    contacts: Sequence[tuple[datetime, str | None, str, str | None]],
    shown: Mapping[str, datetime],
    setup: Setup,
) -> Person:
    """A person as arbitration sees them, from their facts, their messages in the log and their last showings."""
    config, traits = setup.config, facts.traits
    segment = str(traits.get(config.segment_trait) or "all")[:64]
    zone = config.timezone_trait, config.phone_trait, config.default_timezone
    locate = _Zone(traits, zone)
    counted = [Contact(at, class_of(p, t, u)) for at, p, t, u in contacts]
    return Person(facts, locate, counted, shown, segment)


def consent_asks(pairs: set[tuple[str, str]], consent: ConsentConfig) -> dict[tuple[str, str], tuple[str, str] | None]:
    """The consent policy's question for each (purpose, channel) pair (None: a purpose not configured, never
    allowed); a channel that is not a contact channel (an agent's screen, a branch) asks about using the data for
    the purpose."""
    return {
        (purpose, channel): (purpose, channel if channel in consent.channels else "*")
        if purpose in consent.purposes else None
        for purpose, channel in pairs
    }  # fmt: skip
