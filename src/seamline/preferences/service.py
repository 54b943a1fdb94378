"""The preference page's steps: issue a link, read what the page shows, record what the person changed.

Only flushes; the request or CLI command that calls it commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from seamline.config import Settings
from seamline.consent.config import ConsentConfig
from seamline.consent.policy import Choice
from seamline.consent.service import preferences_for, record_choice
from seamline.core.clock import utcnow
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.secrets import load_or_create_secret
from seamline.identity.service import active_header
from seamline.preferences.form import Form, build_form, changes, products_of
from seamline.preferences.links import sign_link
from seamline.profiles.service import golden_traits, holdings_of
from seamline.profiles.survivorship import SurvivorshipConfig

DEFAULT_LINK_DAYS = 14
MAX_LINK_DAYS = 90
ACTOR = "customer"
SURFACE = "web"
PAGE_VERSION = "preference page v1"
NAME_TRAITS = ("first_name", "name")


def signing_secret(settings: Settings) -> str:
    """The configured secret key, else the one generated and kept in the data folder."""
    return settings.secret_key or load_or_create_secret(settings.data_dir)


@dataclass(frozen=True, slots=True)
class IssuedLink:
    profile_id: int
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        return f"/preferences/{self.token}"


def issue_link(session: Session, profile_id: int, *, days: int, secret: str, now: datetime) -> IssuedLink:
    """A link to the preference page of the active profile `profile_id` lives in, valid for `days` days."""
    if not 1 <= days <= MAX_LINK_DAYS:
        raise InvalidInput([FieldError("days", "invalid", f"days must be between 1 and {MAX_LINK_DAYS}")])
    profile = active_header(session, profile_id)
    expires_at = (now + timedelta(days=days)).replace(microsecond=0)
    return IssuedLink(int(profile.id), sign_link(int(profile.id), expires_at, secret), expires_at)


@dataclass(frozen=True, slots=True)
class PageData:
    """What the page shows: whose page it is, how to greet them, and the questions with current answers."""

    profile_id: int
    name: str | None
    form: Form


def load_page(
    session: Session, profile_id: int, *, config: ConsentConfig, survivorship: SurvivorshipConfig, now: datetime
) -> PageData:
    """The page of the active profile `profile_id` lives in (a merged-away profile's link still works)."""
    profile = active_header(session, profile_id)
    products = products_of([(h.type, h.external_id) for h in holdings_of(session, profile.id)])
    preferences = preferences_for(session, profile.id, [p.external_id for p in products], config=config, now=now)
    traits = {t.name: t.value for t in golden_traits(session, profile.id, {}, survivorship)}
    name = next((str(traits[n]) for n in NAME_TRAITS if isinstance(traits.get(n), str) and traits[n]), None)
    return PageData(int(profile.id), name, build_form(preferences, products, config))


def save_page(
    session: Session,
    page: PageData,
    submitted: Mapping[str, str],
    *,
    context: Mapping[str, Any],
    config: ConsentConfig,
) -> list[Choice]:
    """Record every choice the submitted form changes, each with the text the person saw as its evidence."""
    recorded = []
    for change in changes(page.form, submitted):
        recorded.append(
            record_choice(
                session,
                page.profile_id,
                kind=change.kind,
                purpose=change.purpose,
                channel=change.channel,
                product=change.product,
                value=change.value,
                document_type=change.document_type,
                actor=ACTOR,
                surface=SURFACE,
                evidence={"text_shown": change.text_shown, **context, "page": PAGE_VERSION},
                config=config,
            )
        )
    return recorded


UNSUBSCRIBE_LINK_DAYS = MAX_LINK_DAYS


def unsubscribe_link(settings: Settings) -> Callable[[int], str]:
    """Makes one-click unsubscribe addresses (RFC 8058) for marketing email: the preference link, signed for
    UNSUBSCRIBE_LINK_DAYS days, with `/unsubscribe` after it."""
    base = settings.email.public_url.rstrip("/")
    secret = signing_secret(settings)

    def link(profile_id: int) -> str:
        expires_at = (utcnow() + timedelta(days=UNSUBSCRIBE_LINK_DAYS)).replace(microsecond=0)
        return f"{base}/preferences/{sign_link(profile_id, expires_at, secret)}/unsubscribe"

    return link


def unsubscribe(session: Session, profile_id: int, *, config: ConsentConfig) -> Choice:
    """A one-click unsubscribe from a marketing email: marketing by email denied, customer-wide, as a new version."""
    profile = active_header(session, profile_id)
    return record_choice(
        session,
        int(profile.id),
        kind="consent",
        purpose="marketing",
        channel="email",
        value="denied",
        actor=ACTOR,
        surface="email",
        evidence={"method": "RFC 8058 one-click unsubscribe"},
        config=config,
    )
