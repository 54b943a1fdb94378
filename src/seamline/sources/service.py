"""Rules for sources: creation with a one-time key, rotation, revocation, and write-key authentication."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound, Unauthorized
from seamline.core.names import name_error
from seamline.core.ttl import TtlValue
from seamline.core.views import view_of
from seamline.sources import repository
from seamline.sources.keys import hash_key, key_hint, new_write_key
from seamline.sources.models import Source

SOURCE_KINDS = (
    "web",
    "mobile",
    "server",
    "crm",
    "call-center",
    "branch",
    "email",
    "chat",
    "sms",
    "core-system",
    "import",
)


@dataclass(frozen=True, slots=True)
class SourceView:
    """What callers outside the domain see of a source (never the key digest)."""

    id: int
    name: str
    kind: str
    key_hint: str
    allowed_origins: tuple[str, ...]
    rate_limit_per_second: float | None
    is_revoked: bool

    @classmethod
    def of(cls, source: Source) -> SourceView:
        return view_of(
            cls, source, allowed_origins=tuple(source.allowed_origins or ()), is_revoked=source.revoked_at is not None
        )

    def may_receive_from(self, origin: str) -> bool:
        """Whether a browser page at `origin` may send with this source's key."""
        return "*" in self.allowed_origins or origin in self.allowed_origins


def _origin(value: str) -> str | None:
    """The origin as a browser sends it (lower-case scheme and host, no trailing slash), or None if it is not one."""
    if value == "*":
        return value
    try:
        parts = urlsplit(value.rstrip("/"))
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if parts.path or parts.query or parts.fragment or value != value.strip():
        return None
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _validate(name: str, kind: str, origins: Sequence[str], rate_limit: float | None) -> list[FieldError]:
    errors: list[FieldError] = []
    if (problem := name_error(name)) is not None:
        errors.append(problem)
    if kind not in SOURCE_KINDS:
        errors.append(FieldError("kind", "invalid", f"kind must be one of: {', '.join(SOURCE_KINDS)}"))
    for i, origin in enumerate(origins):
        if _origin(origin) is None:
            errors.append(FieldError("origins", "invalid", f"{origin!r} is not an origin like https://shop.example", i))
    if rate_limit is not None and not (math.isfinite(rate_limit) and rate_limit > 0):
        errors.append(FieldError("rate_limit", "invalid", "rate limit must be a positive number"))
    return errors


def create_source(
    session: Session,
    name: str,
    kind: str,
    *,
    origins: Sequence[str] = (),
    rate_limit_per_second: float | None = None,
) -> tuple[SourceView, str]:
    """Create a source; the returned write key is shown this once and never stored."""
    errors = _validate(name, kind, origins, rate_limit_per_second)
    if errors:
        raise InvalidInput(errors, f"source {name!r} was not created")
    if repository.get_by_name(session, name) is not None:
        raise Conflict(f"a source named {name!r} already exists")
    key = new_write_key()
    source = repository.add(
        session,
        Source(
            name=name,
            kind=kind,
            write_key_hash=hash_key(key),
            key_hint=key_hint(key),
            allowed_origins=[o for o in (_origin(o) for o in origins) if o is not None],
            rate_limit_per_second=rate_limit_per_second,
            created_at=utcnow(),
        ),
    )
    return SourceView.of(source), key


def _require(session: Session, name: str) -> Source:
    source = repository.get_by_name(session, name)
    if source is None:
        raise NotFound(f"no source named {name!r}")
    return source


def rotate_key(session: Session, name: str) -> tuple[SourceView, str]:
    """Replace a source's key (the old one stops working at once) and return the new key, shown once."""
    source = _require(session, name)
    key = new_write_key()
    source.write_key_hash = hash_key(key)
    source.key_hint = key_hint(key)
    source.revoked_at = None
    session.flush()
    return SourceView.of(source), key


def revoke_source(session: Session, name: str) -> SourceView:
    """Stop accepting a source's key; its stored events stay."""
    source = _require(session, name)
    if source.revoked_at is None:
        source.revoked_at = utcnow()
        session.flush()
    return SourceView.of(source)


def list_sources(session: Session) -> list[SourceView]:
    return [SourceView.of(s) for s in repository.list_all(session)]


def authenticate_write_key(session: Session, key: str) -> SourceView:
    """The source a write key belongs to; Unauthorized when the key is unknown or revoked."""
    source = repository.get_by_key_hash(session, hash_key(key))
    if source is None:
        raise Unauthorized("unknown write key")
    if source.revoked_at is not None:
        raise Unauthorized("this write key has been revoked")
    return SourceView.of(source)


def find_by_key(session: Session, key: str) -> SourceView | None:
    """The active source for a key, or None: for endpoints that answer 404 rather than 401."""
    source = repository.get_by_key_hash(session, hash_key(key))
    return SourceView.of(source) if source is not None and source.revoked_at is None else None


def is_origin_allowed_anywhere(session: Session, origin: str) -> bool:
    """Whether any active source accepts `origin`: what a CORS preflight (which carries no key) can know."""
    return any("*" in origins or origin in origins for origins in repository.active_origins(session))


def source_names(engine: Engine, ttl: float) -> TtlValue[dict[int, str]]:
    """Every source's name by id, read again at most once per `ttl` seconds: facts name their source by id, and
    hot reads (profile cards, console pages) show its name."""

    def load() -> dict[int, str]:
        with unit_of_work(engine, write=False) as session:
            return {s.id: s.name for s in list_sources(session)}

    return TtlValue(load, ttl)
