"""What the OpenAPI document says beyond each route's own schemas: the error answer and the statuses a route
answers with (`errors(...)` for a route's `responses=`), the security schemes and which routes need which, and the
rules no schema can say (the API's description)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]


class ErrorItemOut(BaseModel):
    index: int | None = None
    field: str
    code: str
    message: str


class ErrorDetailOut(BaseModel):
    code: str
    message: str
    errors: list[ErrorItemOut]


class ErrorOut(BaseModel):
    """Every 4xx and 5xx answer of the API (`code` and `message` repeat at the top for SDKs that read them there)."""

    code: str
    message: str
    error: ErrorDetailOut


_MEANING: dict[int, str] = {
    400: "The request is not valid: `error.errors` names each field (and item index) and why. Nothing was changed.",
    401: "No credentials, or unknown or revoked ones (`WWW-Authenticate` says which scheme).",
    403: "The credentials are valid but do not allow this: a server key without the route's scope.",
    404: "Nothing with this id (a merged profile id answers with the profile it lives in, never 404).",
    410: "The profile was erased: the message names the erasure's privacy request. Nothing about the person is served.",
    409: "The change conflicts with the current state (the message says which move is allowed). Nothing changed.",
    413: "A size or count limit was exceeded. Nothing was stored.",
    429: "Rate limit; `Retry-After` and `X-RateLimit-Reset` say when to come back.",
    503: "Not ready: the database does not answer or its schema is behind.",
}


def errors(*codes: int, **meanings: str) -> Responses:
    """`responses=` for a route: each status it answers with besides success, with the error body's schema.

    A keyword `s409="..."` replaces the standard wording of that status for this route."""
    out: Responses = {}
    for code in codes:
        text = meanings.get(f"s{code}", _MEANING[code])
        out[code] = {"model": ErrorOut, "description": text}
    return out


# The security schemes, and which routes need which (by path). The console's session is documented for
# completeness: its pages are not in this document, but the same cookie is what a browser sends there.
WRITE_KEY = "writeKey"
SERVER_KEY = "serverKey"
METRICS_TOKEN = "metricsToken"  # noqa: S105  # a scheme name, not a secret
CONSOLE_SESSION = "consoleSession"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    WRITE_KEY: {
        "type": "http",
        "scheme": "basic",
        "description": (
            "A source's write key as the Basic user name with an empty password (Segment's SDKs do this). "
            "Also accepted: an `X-Write-Key` header or `writeKey` in the JSON body. Browser pages must come "
            "from an origin of the source (`seamline sources create web --origin https://shop.example`)."
        ),
    },
    SERVER_KEY: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "sk_…",
        "description": (
            "A server key (`seamline keys create NAME --scope profiles:read …`) holding the route's scope: "
            "`profiles:read`, `profiles:write`, `identity:admin`, `cases:read`, `cases:write`, `matching:read`, "
            "`matching:write`, `audit:read`, `destinations:admin`, `journeys:read`, `journeys:write`, `tasks:read`, "
            "`tasks:write`, `errors:read`, `errors:write`, `reports:read`, `inbox:read`, `inbox:write`, `decisions`. "
            "Every read and change of personal data is audited under the key."
        ),
    },
    METRICS_TOKEN: {
        "type": "http",
        "scheme": "bearer",
        "description": "`SEAMLINE_METRICS_TOKEN`; without one configured, only loopback clients may read metrics.",
    },
    CONSOLE_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "seamline_console",
        "description": "The agent console's session (`/console/login`); HttpOnly, SameSite=Lax, path /console.",
    },
}
_OPEN = ("/healthz", "/readyz", "/v1/projects/{write_key}/settings")
_TRACKING = ("identify", "track", "page", "screen", "group", "alias", "batch", "i", "t", "p", "s", "g", "a", "b")


def security_of(path: str) -> list[dict[str, list[str]]]:
    """The security requirement of an operation, by its path."""
    if path in _OPEN:
        return []
    if path == "/metrics":
        return [{METRICS_TOKEN: []}]
    if path.removeprefix("/v1/") in _TRACKING:
        return [{WRITE_KEY: []}]
    return [{SERVER_KEY: []}]


def document(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the security schemes to a generated document, and each operation's requirement."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            operation["security"] = security_of(path)
    return schema


DESCRIPTION = """\
One identity, consent and journey foundation for every channel. The tracking API speaks the Segment spec, so
Segment and RudderStack SDKs work unchanged: point their host at this server.

**Rules no schema can say**

- *Errors*: every 4xx answer is JSON, `{"error": {"code", "message", "errors": [{"index", "field", "code",
  "message"}]}}`, naming each field (and, in a batch, the item's index). A request that fails changes nothing.
- *Tracking*: a request is stored whole or not at all, and answered only once committed. A `messageId` the
  source already sent is skipped, so retries never double-count. At most 32 KB per event, 500 KB per request and
  2,500 events per batch (`413`). `Content-Encoding: gzip` is inflated. JSON sent as `text/plain` is fine.
  `timestamp` is corrected for the device's clock when `sentAt` is present.
- *Profiles*: a merged profile id answers with the profile it lives in (`requested_id` says which was asked).
  Identifiers are normalized as the worker does (emails lower-cased, phones to E.164). Timelines are newest first
  and keyset-paginated: pass `next_cursor` back as `cursor`; a damaged cursor is a `400`.
- *Consent*: a choice never deletes an older one; the newest covering choice wins, a product's own choice over
  the customer-wide one only when newer. A merge never grants consent.
- *Audit*: every read of personal data is in the audit log before the answer leaves; a read whose entry cannot
  be written is refused.
- *Cases*: status moves follow the state machine (`409` names the moves allowed from here); SLA clocks run in
  business time and pause while the case waits on the customer.
"""
