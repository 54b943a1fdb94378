"""The one contact policy, pure: never market what a person already has (or just bought), one fatigue budget across
every channel and sender, and quiet hours in the person's own time zone. Values in, a verdict out; the decision
API, the outbox and audience exports ask it through the service."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

from seamline.core.forgetting import register
from seamline.decisions.config import Cap

CRITICAL, SERVICE, MARKETING = "critical", "service", "marketing"
# Rules that stop a contact, as the decision API and the communications log name them.
HOLDS_PRODUCT = "holds_product"
BOUGHT_RECENTLY = "bought_recently"
FATIGUE = "fatigue_budget"
QUIET_HOURS = "quiet_hours"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a contact may not happen now: `hold_until` set means later (quiet hours), else not at all."""

    rule: str
    reason: str
    hold_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    """A communication that counts against the budget: when, and its priority class."""

    at: datetime
    priority: str


def class_of(priority: str | None, type_: str | None, purpose: str | None = None) -> str:
    """A communication's priority class; another platform's report names only its type."""
    if priority in (CRITICAL, SERVICE, MARKETING):
        return priority
    if type_ == "regulatory":
        return CRITICAL
    return MARKETING if MARKETING in (type_, purpose) else SERVICE


def product_suppression(
    product: str | None,
    names: frozenset[str],
    holdings: frozenset[str],
    purchases: Sequence[tuple[str, datetime]],
    now: datetime,
    window_days: float,
) -> Verdict | None:
    """A product is not marketed to someone who holds it, or bought it within the window."""
    if product is None:
        return None
    held = sorted(names & holdings)
    if held:
        return Verdict(HOLDS_PRODUCT, f"holds the product {product} ({held[0]})")
    since = now - timedelta(days=window_days)
    bought = [at for name, at in purchases if name in names and at >= since]
    if bought:
        days = max(0, (now - max(bought)).days)
        return Verdict(BOUGHT_RECENTLY, f"bought {product} {days} days ago (window {window_days:g} days)")
    return None


def budget_verdict(
    priority: str, contacts: Sequence[Contact], caps: Sequence[Cap], service_caps: Sequence[Cap], now: datetime
) -> Verdict | None:
    """Critical always goes; service counts against the budget but only its own caps stop it; marketing yields
    when any cap is spent by marketing and service together."""
    if priority == CRITICAL:
        return None
    counted = [c for c in contacts if c.priority in (MARKETING, SERVICE)]
    if priority == SERVICE:
        counted = [c for c in counted if c.priority == SERVICE]
    for cap in service_caps if priority == SERVICE else caps:
        since = now - timedelta(days=cap.window_days)
        used = sum(1 for c in counted if c.at >= since)
        if used >= cap.limit:
            return Verdict(FATIGUE, f"fatigue budget spent: {used} of {cap.limit} messages in {cap.window_days:g} days")
    return None


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_verdict(priority: str, now: datetime, zone: ZoneInfo, start: str | None, end: str | None) -> Verdict | None:
    """Inside quiet hours (local time) a message is held until they end; critical ones pass."""
    if priority == CRITICAL or start is None or end is None:
        return None
    local = now.astimezone(zone)
    begins, ends, at = _clock(start), _clock(end), local.time()
    quiet = (begins <= at or at < ends) if begins > ends else (begins <= at < ends)
    if not quiet:
        return None
    opens = datetime.combine(local.date(), ends, tzinfo=zone)
    if opens <= local:
        opens = datetime.combine(local.date() + timedelta(days=1), ends, tzinfo=zone)
    return Verdict(QUIET_HOURS, f"quiet hours in {zone.key} until {opens:%Y-%m-%d %H:%M} local", opens)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_of(traits: Mapping[str, object], timezone_trait: str, phone_trait: str, default: str) -> ZoneInfo:
    """The person's time zone: a trait, else the phone number's country (phonenumbers), else the default."""
    named = traits.get(timezone_trait)
    if isinstance(named, str) and (zone := _zone(named)) is not None:
        return zone
    phone = traits.get(phone_trait)
    if isinstance(phone, str) and phone and (name := _phone_zone_name(phone)) is not None:
        return _zone(name) or ZoneInfo("UTC")  # a name _phone_zone_name found to load
    return _zone(default) or ZoneInfo("UTC")


# A phone number's time zone, remembered: phonenumbers' parse and validity check cost 35-80 µs a number, as much as
# a decision's arithmetic, and every decision answers the person's time zone. The memo holds no phone number: its
# keys are keyed BLAKE2 digests of the numbers, under a random key made per process and never stored or shown, and
# its values are time zone names (or None: the default applies). Bounded: emptied when full, and on every erasure
# with the process's other caches (a digest of an erased person's number is not kept either).
_PHONE_MEMO_KEY = secrets.token_bytes(32)
_PHONE_MEMO: dict[bytes, str | None] = {}
PHONE_MEMO_SIZE = 65_536
register(_PHONE_MEMO.clear)


def _phone_zone_name(phone: str) -> str | None:
    digest = hashlib.blake2b(phone.encode("utf-8", "surrogatepass"), key=_PHONE_MEMO_KEY, digest_size=16).digest()
    try:
        return _PHONE_MEMO[digest]
    except KeyError:
        pass
    name = phone_zone_name(phone)
    if len(_PHONE_MEMO) >= PHONE_MEMO_SIZE:
        _PHONE_MEMO.clear()
    _PHONE_MEMO[digest] = name
    return name


def phone_zone_name(phone: str) -> str | None:
    """The first time zone of a phone number's country (phonenumbers) that this machine knows, or None."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    for name in phone_timezones.time_zones_for_number(number):
        if _zone(name) is not None:
            return str(name)
    return None
