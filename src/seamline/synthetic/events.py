"""Synthetic Segment traffic from synthetic people, each message labelled with the person who really caused it.

The model. Time runs from `start` over `days`; sessions begin one after another and each emits a few messages a
few seconds to minutes apart, so the stream comes out in timestamp order. A session is one of:

- browsing on a device (web `page`, app `screen`, some `track`), with the device's anonymousId and, in the apps,
  `context.device.id`. A registered person who is not yet logged in on that device logs in with probability
  1 - `anonymous_share`: an `identify` with userId, the session's anonymousId and traits (email, name, sometimes a
  phone), now and then an `alias`. Later sessions on that device carry the userId without a new login, until the
  login expires (a quarter of later sessions) and the person is anonymous there again. With
  `cross_device_rate` the session is on one of the person's other devices, so their anonymous ids join up only
  through the login.
- a family tablet (`shared_tablet_rate` of sessions of people who have one): two household members log in on one
  device and one anonymousId, one after the other. They stay two people.
- a call-center call: an `identify` whose only evidence is `traits.phone` in a local spelling ("(415) 555-0132"),
  with a per-call anonymousId and no userId, then a `track` "Call Completed". A household landline makes the phone
  point at more than one person.
- a CRM sync: an `identify` with `traits.email`, name, address and `context.externalIds` holding the CRM contact id
  (anonymousId is that id too). Now and then the CRM holds a duplicate contact for the same person.
- a product event from the system of record: `track` "Account Opened", "Card Activated", "Order Completed" (and
  later "Statement Issued", …) with `properties.account_id` or `properties.order_id`, plus a `group` with
  groupId = the account id. Joint accounts put two people in one group; a group is never evidence of one person.

Bad integrations: with `placeholder_rate` an identify (and a product event of an unregistered customer) carries a
placeholder instead of a real value ("test@test.com", "null", phone "0000000000", userId "0" or "guest") while the
rest of the message is true. Two people sharing a placeholder are not one person. With `messy_email_rate` an email
comes in odd case and with spaces (" Ada@Example.COM ").

Truth (`person_key`) travels beside each message, never inside it. The same people, seed and knobs give the same
messages, byte for byte.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from seamline.synthetic.draw import Weighted, below, pick, random_uuid
from seamline.synthetic.people import Device, Holding, Person
from seamline.synthetic.phones import local_phone

PLACEHOLDER_EMAILS: Final = ("test@test.com", "null", "undefined", "none@none.com")
PLACEHOLDER_PHONES: Final = ("0000000000", "1234567890", "null")
PLACEHOLDER_USER_IDS: Final = ("0", "guest", "undefined")
PLACEHOLDERS: Final = frozenset(PLACEHOLDER_EMAILS + PLACEHOLDER_PHONES + PLACEHOLDER_USER_IDS)

SOURCES: Final = {"web": "web", "ios": "ios-app", "android": "android-app"}
_DAY_MS: Final = 86_400_000
_CRM_DUPLICATE_RATE: Final = 0.05
_ALIAS_RATE: Final = 0.1
_LOGIN_EXPIRY: Final = 0.25
_PRODUCT_EVENTS: Final = {
    "checking_account": ("Account Opened", "Statement Issued"),
    "credit_card": ("Card Activated", "Card Payment Made"),
    "mortgage": ("Account Opened", "Mortgage Payment Made"),
    "order": ("Order Completed", "Order Shipped"),
}
_PAGES: Final = (
    ("/", "Home"),
    ("/accounts", "Accounts"),
    ("/cards", "Cards"),
    ("/mortgages", "Mortgages"),
    ("/shop", "Shop"),
    ("/shop/cart", "Cart"),
    ("/help", "Help"),
    ("/offers", "Offers"),
    ("/settings/profile", "Profile"),
)
_SCREENS: Final = ("Home", "Accounts", "Account Details", "Card Details", "Transfer", "Offers", "Help", "Settings")
_TRACKS: Final = ("Product Viewed", "Offer Viewed", "Search Performed", "Button Clicked")
_CALL_REASONS: Final = ("card_lost", "balance_question", "address_change", "complaint", "mortgage_question")
_REFERRERS: Final = ("", "https://search.example.com/", "https://news.example.org/", "https://mail.example.net/")
_WEBKIT: Final = "AppleWebKit/537.36 (KHTML, like Gecko)"
_USER_AGENTS: Final = {
    "Chrome 126": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/126.0 Safari/537.36",
    "Safari 17.5": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1",
    "Firefox 127": "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Edge 126": f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) {_WEBKIT} Chrome/126.0 Edg/126.0",
}
_SERVER_LIBRARY: Final = ("analytics-python", "2.3.3")


@dataclass(frozen=True, slots=True)
class SyntheticEvent:
    """One Segment message, the person who truly caused it, the source that sent it and the kind of session."""

    message: dict[str, Any]
    person_key: str
    source: str
    scenario: str


def generate_events(
    people: Sequence[Person],
    n_events: int,
    seed: int,
    start: datetime,
    *,
    days: float = 30.0,
    anonymous_share: float = 0.4,
    cross_device_rate: float = 0.3,
    placeholder_rate: float = 0.01,
    shared_tablet_rate: float = 0.35,
    messy_email_rate: float = 0.1,
    call_center_share: float = 0.05,
    crm_share: float = 0.04,
    product_share: float = 0.08,
) -> Iterator[SyntheticEvent]:
    """Exactly `n_events` messages about `people` in timestamp order, the same for the same arguments."""
    rates = {
        "anonymous_share": anonymous_share,
        "cross_device_rate": cross_device_rate,
        "placeholder_rate": placeholder_rate,
        "shared_tablet_rate": shared_tablet_rate,
        "messy_email_rate": messy_email_rate,
        "call_center_share": call_center_share,
        "crm_share": crm_share,
        "product_share": product_share,
    }
    for name, rate in rates.items():
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
    if call_center_share + crm_share + product_share > 1.0:
        raise ValueError("call_center_share + crm_share + product_share must be at most 1")
    if n_events < 0 or days <= 0:
        raise ValueError("n_events must not be negative and days must be positive")
    if not n_events:
        return iter(())
    if not people:
        raise ValueError("events need at least one person")
    moment = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    start_ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    factory = _EventFactory(people, random.Random(seed), rates)
    return factory.run(n_events, start_ms, int(days * _DAY_MS))


class _EventFactory:
    """Turns sessions into messages, keeping what sources remember: who is logged in where, CRM contact ids."""

    def __init__(self, people: Sequence[Person], rng: random.Random, rates: dict[str, float]) -> None:
        self.people = people
        self.rng = rng
        self.anonymous_share = rates["anonymous_share"]
        self.cross_device_rate = rates["cross_device_rate"]
        self.placeholder_rate = rates["placeholder_rate"]
        self.shared_tablet_rate = rates["shared_tablet_rate"]
        self.messy_email_rate = rates["messy_email_rate"]
        call, crm, product = rates["call_center_share"], rates["crm_share"], rates["product_share"]
        self.kinds = Weighted(("browse", "call", "crm", "product"), (1.0 - call - crm - product, call, crm, product))
        # Some people are far busier than others (a long tail, as in real traffic).
        self.activity = Weighted(range(len(people)), [min(rng.paretovariate(1.5), 40.0) for _ in people])
        self.logged_in: dict[str, str] = {}  # anonymousId -> the userId stored on that device
        self.crm_ids: dict[int, list[str]] = {}
        self.customer_numbers: dict[tuple[int, str], str] = {}
        self.announced: set[tuple[str, int]] = set()
        self.day_prefix: dict[int, str] = {}
        self.heap: list[tuple[int, int, SyntheticEvent]] = []
        self.made = 0
        self.limit = 0

    def run(self, n_events: int, start_ms: int, span_ms: int) -> Iterator[SyntheticEvent]:
        self.limit = n_events
        heap = self.heap
        jitter = max(1, span_ms // max(n_events, 1) * 5)
        while self.made < n_events:
            now = start_ms + span_ms * self.made // n_events
            # Every later session starts at or after `now`, so what is buffered up to `now` is final.
            while heap and heap[0][0] <= now:
                yield heapq.heappop(heap)[2]
            # Jitter within a few slots so that sessions do not all begin on round times.
            self._session(now + below(self.rng, jitter))
        while heap:
            yield heapq.heappop(heap)[2]

    def _emit(self, at: int, person: Person, source: str, scenario: str, message: dict[str, Any]) -> None:
        if self.made >= self.limit:
            return
        self.made += 1
        message["messageId"] = random_uuid(self.rng)
        message["timestamp"] = self._iso(at)
        heapq.heappush(self.heap, (at, self.made, SyntheticEvent(message, person.person_key, source, scenario)))

    def _iso(self, at: int) -> str:
        day, rest = divmod(at, _DAY_MS)
        prefix = self.day_prefix.get(day)
        if prefix is None:
            prefix = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(days=day)).strftime("%Y-%m-%dT")
            self.day_prefix[day] = prefix
        seconds, millis = divmod(rest, 1000)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        return f"{prefix}{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}Z"

    def _session(self, now: int) -> None:
        index = self.activity.pick(self.rng)
        person = self.people[index]
        kind = self.kinds.pick(self.rng)
        if kind == "call" and person.phone is not None:
            self._call(person, now)
        elif kind == "crm" and person.emails:
            self._crm(index, person, now)
        elif kind == "product" and person.holdings:
            self._product(index, person, now)
        else:
            self._browse(person, now)

    def _is_placeholder(self) -> bool:
        return self.rng.random() < self.placeholder_rate

    def _email(self, person: Person) -> str:
        email = pick(self.rng, person.emails)
        if self.rng.random() >= self.messy_email_rate:
            return email
        local, _, domain = email.partition("@")
        name, _, tld = domain.rpartition(".")
        return pick(
            self.rng,
            (
                f" {local.title()}@{name.title()}.{tld.upper()} ",
                email.upper(),
                f"{email}  ",
                f" {local.capitalize()}@{domain}",
            ),
        )

    def _phone(self, e164: str) -> str:
        return local_phone(e164, below(self.rng, 12)) if self.rng.random() < 0.7 else e164

    # Sessions -----------------------------------------------------------------------------------------------

    def _browse(self, person: Person, now: int) -> None:
        rng = self.rng
        own = [d for d in person.devices if not d.is_shared]
        tablet = next((d for d in person.devices if d.is_shared), None)
        if tablet is not None and rng.random() < self.shared_tablet_rate:
            device, scenario = tablet, "shared-tablet"
        elif len(own) > 1 and rng.random() < self.cross_device_rate:
            device, scenario = own[1 + below(rng, len(own) - 1)], "browse"
        else:
            device, scenario = own[0], "browse"
        anonymous_id = device.anonymous_id
        user_id = person.user_id
        # A login stays on the device for later sessions until it expires; then the person browses anonymously again.
        current = self.logged_in.get(anonymous_id)
        if current != user_id or rng.random() < _LOGIN_EXPIRY:
            current = None
        views = 1 + below(rng, 7)
        login_at = -1
        if user_id is not None and current is None and (device.is_shared or rng.random() >= self.anonymous_share):
            # On the family tablet someone else may be logged in: this member logs in before doing anything.
            login_at = 0 if device.is_shared else below(rng, views)
            scenario = scenario if device.is_shared else "login"
        source = SOURCES[device.kind]
        at = now
        for step in range(views):
            if step == login_at:
                current = self._login(person, device, source, scenario, at)
                at += 1_000 + below(rng, 5_000)
            message = self._view(device, person)
            if current is not None:
                message["userId"] = current
            self._emit(at, person, source, scenario, message)
            at += 3_000 + below(rng, 120_000)

    def _login(self, person: Person, device: Device, source: str, scenario: str, at: int) -> str:
        """An identify (and now and then an alias); the userId the rest of the session carries."""
        rng = self.rng
        user_id = person.user_id
        assert user_id is not None
        traits: dict[str, Any] = {"email": self._email(person)}
        if rng.random() < 0.5:
            traits["firstName"], traits["lastName"] = person.first_name, person.last_name
        else:
            # Sign-up forms with one name field; people type what they are called.
            first = person.nickname if person.nickname and rng.random() < 0.3 else person.first_name
            traits["name"] = f"{first} {person.last_name}"
        if person.phone is not None and rng.random() < 0.3:
            traits["phone"] = self._phone(person.phone)
        sent_user_id = user_id
        if self._is_placeholder():
            field = below(rng, 3)
            if field == 0:
                traits["email"] = pick(rng, PLACEHOLDER_EMAILS)
            elif field == 1:
                traits["phone"] = pick(rng, PLACEHOLDER_PHONES)
            else:
                sent_user_id = pick(rng, PLACEHOLDER_USER_IDS)
        message = {
            "type": "identify",
            "userId": sent_user_id,
            "anonymousId": device.anonymous_id,
            "traits": traits,
            "context": self._device_context(device, person),
        }
        self._emit(at, person, source, scenario, message)
        if sent_user_id == user_id:
            self.logged_in[device.anonymous_id] = user_id
            if rng.random() < _ALIAS_RATE:
                alias: dict[str, Any] = {
                    "type": "alias",
                    "previousId": device.anonymous_id,
                    "userId": user_id,
                    "context": self._device_context(device, person),
                }
                self._emit(at + 200, person, source, scenario, alias)
        return sent_user_id

    def _view(self, device: Device, person: Person) -> dict[str, Any]:
        rng = self.rng
        context = self._device_context(device, person)
        if rng.random() < 0.25:
            event = pick(rng, _TRACKS)
            return {
                "type": "track",
                "event": event,
                "anonymousId": device.anonymous_id,
                "properties": {"item": f"sku-{below(rng, 500):03d}"} if event == "Product Viewed" else {},
                "context": context,
            }
        if device.kind == "web":
            page = context["page"]
            return {
                "type": "page",
                "name": page["title"],
                "anonymousId": device.anonymous_id,
                "properties": dict(page),
                "context": context,
            }
        return {
            "type": "screen",
            "name": pick(rng, _SCREENS),
            "anonymousId": device.anonymous_id,
            "properties": {},
            "context": context,
        }

    def _device_context(self, device: Device, person: Person) -> dict[str, Any]:
        locale = "en-GB" if person.address.country == "GB" else "en-US"
        if device.kind == "web":
            path, title = pick(self.rng, _PAGES)
            return {
                "library": {"name": "analytics.js", "version": "next-1.70.0"},
                "page": {
                    "path": path,
                    "url": f"https://www.seamline.example{path}",
                    "title": title,
                    "referrer": pick(self.rng, _REFERRERS),
                },
                "userAgent": _USER_AGENTS.get(device.model, device.model),
                "locale": locale,
            }
        ios = device.kind == "ios"
        return {
            "library": {"name": "analytics-ios" if ios else "analytics-android", "version": "4.1.8"},
            "app": {"name": "Seamline Bank", "version": "5.2.1", "build": "521"},
            "device": {
                "id": device.device_id,
                "manufacturer": "Apple" if ios else ("Google" if device.model.startswith("Pixel") else "Samsung"),
                "model": device.model,
                "type": device.kind,
            },
            "os": {"name": "iOS" if ios else "Android", "version": "17.5" if ios else "14"},
            "locale": locale,
        }

    def _call(self, person: Person, now: int) -> None:
        rng = self.rng
        assert person.phone is not None
        call_id = f"call-{rng.getrandbits(64):016x}"
        phone = pick(rng, PLACEHOLDER_PHONES) if self._is_placeholder() else local_phone(person.phone, below(rng, 30))
        context = {"library": {"name": _SERVER_LIBRARY[0], "version": _SERVER_LIBRARY[1]}}
        identify = {"type": "identify", "anonymousId": call_id, "traits": {"phone": phone}, "context": context}
        self._emit(now, person, "call-center", "call-center", identify)
        track = {
            "type": "track",
            "event": "Call Completed",
            "anonymousId": call_id,
            "properties": {"reason": pick(rng, _CALL_REASONS), "duration_seconds": 30 + below(rng, 1200)},
            "context": {"library": {"name": _SERVER_LIBRARY[0], "version": _SERVER_LIBRARY[1]}},
        }
        self._emit(now + 60_000 + below(rng, 1_200_000), person, "call-center", "call-center", track)

    def _crm(self, index: int, person: Person, now: int) -> None:
        rng = self.rng
        contacts = self.crm_ids.setdefault(index, [])
        if not contacts or rng.random() < _CRM_DUPLICATE_RATE:
            # Salesforce-like contact ids; a second one for the same person is a duplicate contact.
            contacts.append("003" + "".join(pick(rng, _BASE62) for _ in range(15)))
        crm_id = pick(rng, contacts)
        address = person.address
        traits: dict[str, Any] = {
            "email": pick(rng, PLACEHOLDER_EMAILS) if self._is_placeholder() else self._email(person),
            "firstName": person.nickname if person.nickname and rng.random() < 0.3 else person.first_name,
            "lastName": person.last_name,
            "address": {
                "street": address.street,
                "city": address.city,
                "postalCode": address.postcode,
                "country": address.country,
            },
        }
        if person.phone is not None and rng.random() < 0.5:
            traits["phone"] = self._phone(person.phone)
        if rng.random() < 0.5:
            traits["birthday"] = person.date_of_birth.isoformat()
        message: dict[str, Any] = {"type": "identify", "anonymousId": crm_id}
        if person.user_id is not None and rng.random() < 0.3:
            message["userId"] = person.user_id
        message["traits"] = traits
        message["context"] = {
            "library": {"name": _SERVER_LIBRARY[0], "version": _SERVER_LIBRARY[1]},
            "externalIds": [{"id": crm_id, "type": "crm_id", "collection": "users", "encoding": "none"}],
        }
        self._emit(now, person, "crm", "crm", message)

    def _product(self, index: int, person: Person, now: int) -> None:
        rng = self.rng
        holding = pick(rng, person.holdings)
        first, later = _PRODUCT_EVENTS[holding.kind]
        is_first = (holding.external_id, index) not in self.announced
        self.announced.add((holding.external_id, index))
        identity = self._system_identity(index, person, holding)
        properties: dict[str, Any]
        if holding.kind == "order":
            properties = {
                "order_id": holding.external_id,
                "total": round(5 + rng.random() * 400, 2),
                "currency": "GBP" if person.address.country == "GB" else "USD",
            }
        else:
            properties = {
                "account_id": holding.external_id,
                "account_type": holding.kind,
                "status": holding.status,
                "opened_at": holding.opened_on.isoformat(),
            }
        context: dict[str, Any] = {"library": {"name": _SERVER_LIBRARY[0], "version": _SERVER_LIBRARY[1]}}
        if holding.kind == "order" and "userId" not in identity and person.emails and rng.random() < 0.8:
            context["traits"] = {"email": self._email(person)}  # a guest checkout leaves its email
        track = {"type": "track", "event": first if is_first else later, **identity, "properties": properties}
        track["context"] = context
        self._emit(now, person, holding.source_system, "product", track)
        if holding.kind != "order":
            group = {
                "type": "group",
                "groupId": holding.external_id,
                **identity,
                "traits": {"type": holding.kind, "status": holding.status, "opened_at": holding.opened_on.isoformat()},
                "context": {"library": {"name": _SERVER_LIBRARY[0], "version": _SERVER_LIBRARY[1]}},
            }
            self._emit(now + 500, person, holding.source_system, "product", group)

    def _system_identity(self, index: int, person: Person, holding: Holding) -> dict[str, str]:
        """How a system of record names its customer: the login's userId, else its own customer number."""
        if holding.kind == "order":
            web = next((d for d in person.devices if d.kind == "web" and not d.is_shared), person.devices[0])
            identity = {"anonymousId": web.anonymous_id}
            if person.user_id is not None:
                identity["userId"] = person.user_id
            return identity
        if person.user_id is not None:
            return {"userId": person.user_id}
        key = (index, holding.source_system)
        number = self.customer_numbers.get(key)
        if number is None:
            number = f"C{len(self.customer_numbers) + 100_000_001:09d}"  # numbered in order of first sight
            self.customer_numbers[key] = number
        identity = {"anonymousId": number}
        if self._is_placeholder():
            identity["userId"] = pick(self.rng, PLACEHOLDER_USER_IDS[:2])  # systems that write 0 or "guest"
        return identity


_BASE62: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
