"""The tracking API: Segment/RudderStack wire format on /v1, parse → authenticate → append → answer."""

from __future__ import annotations

import base64
import binascii
import math
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from sqlalchemy import Engine

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, Forbidden, NotFound, SeamlineError, TooLarge, Unauthorized
from seamline.core.responses import JSONResponse
from seamline.ingestion.inbox import InboxWriter
from seamline.ingestion.ratelimit import RateLimiter
from seamline.ingestion.wire import (
    SHORT_PATHS,
    Limits,
    body_write_key,
    decode_body,
    parse_batch,
    parse_single,
)
from seamline.observability.metrics import Metrics
from seamline.sources.service import (
    SourceView,
    authenticate_write_key,
    find_by_key,
    is_origin_allowed_anywhere,
)

router = APIRouter(tags=["tracking"])


@dataclass
class IngestionContext:
    """What the tracking edge needs, built once by the app."""

    engine: Engine
    writer: InboxWriter
    limits: Limits
    limiter: RateLimiter
    metrics: Metrics
    rate_limit_per_second: float
    rate_limit_burst: int
    public_url: str = "http://127.0.0.1:8000"  # where SDKs reach Seamline: the settings answer names it


class RateLimited(SeamlineError):
    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded; retry after {retry_after:.2f}s")
        self.retry_after = retry_after


def _context(request: Request) -> IngestionContext:
    ctx: IngestionContext = request.app.state.ingestion
    return ctx


def _header_write_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth[:6].lower() == "basic ":
        try:
            user, _, _password = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Authorization header is not valid Basic credentials") from None
        return user or None
    return request.headers.get("x-write-key") or None


def _authenticate(ctx: IngestionContext, key: str | None) -> SourceView:
    if key is None:
        raise Unauthorized("a write key is required (Basic auth user, X-Write-Key header, or writeKey in the body)")
    with unit_of_work(ctx.engine, write=False) as session:
        return authenticate_write_key(session, key)


def _check_origin(request: Request, source: SourceView) -> str | None:
    origin = request.headers.get("origin")
    if origin is None:
        return None
    if not source.may_receive_from(origin):
        raise Forbidden(f"origin {origin!r} is not allowed for source {source.name!r}")
    return origin


def _check_rate(ctx: IngestionContext, source: SourceView) -> None:
    rate = source.rate_limit_per_second or ctx.rate_limit_per_second
    decision = ctx.limiter.check(source.id, rate, ctx.rate_limit_burst)
    if not decision.is_allowed:
        raise RateLimited(decision.retry_after_seconds)


async def _ingest(request: Request, event_type: str | None) -> Response:
    ctx = _context(request)
    started = time.perf_counter()
    route = event_type or "batch"
    source_name = "unknown"
    try:
        received_at = utcnow()
        max_bytes = ctx.limits.max_batch_bytes if event_type is None else ctx.limits.max_event_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge([FieldError("body", "too_large", f"body is over {max_bytes} bytes")])
        raw = await request.body()
        header_key = _header_write_key(request)
        body = decode_body(raw, request.headers.get("content-encoding"), max_bytes)
        source = _authenticate(ctx, header_key or body_write_key(body))
        source_name = source.name
        origin = _check_origin(request, source)
        _check_rate(ctx, source)
        if event_type is None:
            envelopes = parse_batch(body, received_at, ctx.limits)
        else:
            envelopes = parse_single(body, event_type, received_at, ctx.limits)
        # The parsed body is garbage now. Kept alive across the wait for the commit, every waiting request's
        # thousands of objects would be promoted by the garbage collector and traversed again on each full pass.
        del body
        await ctx.writer.append(source.id, received_at, envelopes)
    except SeamlineError as exc:
        ctx.metrics.events_rejected.labels(source_name, exc.code).inc()
        raise
    finally:
        ctx.metrics.request_latency.labels(route).observe(time.perf_counter() - started)
    ctx.metrics.events_accepted.labels(source_name).inc(len(envelopes))
    response = JSONResponse({"success": True})
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [],
    "properties": {
        "userId": {"type": ["string", "null"], "maxLength": 255},
        "anonymousId": {"type": ["string", "null"], "maxLength": 255},
        "messageId": {"type": "string", "maxLength": 100},
        "event": {"type": "string", "description": "track: the event name (required)"},
        "previousId": {"type": "string", "description": "alias: the earlier id (required)"},
        "groupId": {"type": "string", "description": "group: the group id (required)"},
        "name": {"type": "string"},
        "traits": {"type": "object"},
        "properties": {"type": "object"},
        "context": {"type": "object"},
        "integrations": {"type": "object"},
        "timestamp": {"type": "string", "format": "date-time"},
        "originalTimestamp": {"type": "string", "format": "date-time"},
        "sentAt": {"type": "string", "format": "date-time"},
        "writeKey": {"type": "string", "description": "the source's write key, as browsers send it"},
    },
}
_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {"type": "array", "maxItems": 2500, "items": _MESSAGE_SCHEMA},
        "context": {"type": "object", "description": "merged into each message's context"},
        "integrations": {"type": "object", "description": "merged into each message's integrations"},
        "sentAt": {"type": "string", "format": "date-time"},
        "writeKey": {"type": "string"},
    },
}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request; `error.errors` names each item's index and field. Nothing was stored."},
    401: {"description": "Missing, unknown or revoked write key."},
    403: {"description": "The browser origin is not allowed for this source."},
    413: {"description": "A size or count limit was exceeded. Nothing was stored."},
    429: {"description": "Rate limit; see Retry-After and X-RateLimit-Reset."},
}


def _body_doc(schema: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    content = {"schema": schema, "example": example}
    return {"requestBody": {"required": True, "content": {"application/json": content, "text/plain": content}}}


_EXAMPLES: dict[str, dict[str, Any]] = {
    "identify": {"userId": "u-1001", "traits": {"email": "ada@example.com", "name": "Ada Lovelace"}},
    "track": {
        "userId": "u-1001",
        "event": "Order Completed",
        "properties": {"orderId": "o-17", "total": 42.5},
    },
    "page": {"anonymousId": "a-77", "name": "Pricing", "properties": {"url": "https://shop.example/pricing"}},
    "screen": {"userId": "u-1001", "name": "Account Overview"},
    "group": {"userId": "u-1001", "groupId": "acct-9", "traits": {"plan": "premium"}},
    "alias": {"userId": "u-1001", "previousId": "a-77"},
}


def _add_single(event_type: str) -> None:
    async def endpoint(request: Request) -> Response:
        return await _ingest(request, event_type)

    doc = _body_doc(_MESSAGE_SCHEMA, _EXAMPLES[event_type])
    summary = f"Send one {event_type} message"
    router.add_api_route(
        f"/v1/{event_type}",
        endpoint,
        methods=["POST"],
        summary=summary,
        openapi_extra=doc,
        responses=_ERROR_RESPONSES,
        name=event_type,
    )
    short = next(k for k, v in SHORT_PATHS.items() if v == event_type)
    router.add_api_route(
        f"/v1/{short}",
        endpoint,
        methods=["POST"],
        summary=f"{summary} (analytics.js short path)",
        openapi_extra=doc,
        responses=_ERROR_RESPONSES,
        name=f"{event_type}_short",
    )


for _type in _EXAMPLES:
    _add_single(_type)


@router.post(
    "/v1/batch",
    summary="Send up to 2,500 messages at once; all are stored or none",
    openapi_extra=_body_doc(_BATCH_SCHEMA, {"batch": [{"type": "track", **_EXAMPLES["track"]}]}),
    responses=_ERROR_RESPONSES,
)
async def batch(request: Request) -> Response:
    return await _ingest(request, None)


@router.post("/v1/b", summary="Batch (analytics.js short path)", responses=_ERROR_RESPONSES, include_in_schema=True)
async def batch_short(request: Request) -> Response:
    return await _ingest(request, None)


@router.get(
    "/v1/projects/{write_key}/settings",
    summary="Minimal settings analytics.js (analytics-next) asks for",
    responses={404: {"description": "No active source has this write key."}},
)
async def project_settings(write_key: str, request: Request) -> Response:
    with unit_of_work(_context(request).engine, write=False) as session:
        source = find_by_key(session, write_key)
    if source is None:
        raise NotFound("no active source has this write key")
    # The configured address, not the request's Host header: anyone can send any Host, and a cached answer that
    # names their host would send a site's events to them.
    public = urlsplit(_context(request).public_url)
    segment_io = {"apiKey": write_key, "apiHost": f"{public.netloc}{public.path}/v1", "protocol": public.scheme}
    plan = {"track": {"__default": {"enabled": True, "integrations": {}}}}
    response = JSONResponse(
        {
            "integrations": {"Segment.io": segment_io},
            "plan": plan,
            "edgeFunction": {},
            "analyticsNextEnabled": True,
            "middlewareSettings": {},
            "enabledMiddleware": {},
            "metrics": {"sampleRate": 0},
            "legacyVideoPluginsEnabled": False,
            "remotePlugins": [],
        }
    )
    # analytics.js fetches its settings from the page, cross-origin; the browser hides them without these.
    response.headers["Vary"] = "Origin"
    origin = request.headers.get("origin")
    if origin is not None and source.may_receive_from(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    return response


async def preflight(request: Request) -> Response:
    """Answer a CORS preflight for an origin some active source allows (a preflight carries no key)."""
    origin = request.headers.get("origin")
    if origin is None:
        return Response(status_code=204)
    with unit_of_work(_context(request).engine, write=False) as session:
        allowed = is_origin_allowed_anywhere(session, origin)
    if not allowed:
        raise Forbidden(f"origin {origin!r} is not allowed for any source")
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Write-Key, Content-Encoding",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


# Preflights are answered on the API's own paths only, so that an unknown path stays a 404 for every method.
for _path in (
    *(f"/v1/{name}" for name in (*_EXAMPLES, *SHORT_PATHS, "batch", "b")),
    "/v1/projects/{write_key}/settings",
):
    router.add_api_route(_path, preflight, methods=["OPTIONS"], include_in_schema=False)


def rate_limit_headers(exc: RateLimited) -> dict[str, str]:
    """Retry-After in whole seconds (as HTTP wants) and the reset time in epoch seconds."""
    return {
        "Retry-After": str(max(1, math.ceil(exc.retry_after))),
        "X-RateLimit-Reset": str(math.ceil(time.time() + exc.retry_after)),
    }
