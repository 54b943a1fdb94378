"""Delivery callbacks of SMS and push providers: Twilio's status callbacks and the generic webhook shape's.

No server key here: each callback is authenticated by its provider's signature (X-Twilio-Signature under the
auth token; Standard Webhooks under the `whsec_` secret), checked before anything is read. What it reports lands
in the communications log; undelivered or failed makes the number (or device) unreachable, as a hard bounce does.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Request, Response

from seamline.api.deps import Ctx
from seamline.api.openapi import errors
from seamline.communications.callbacks import record_callback
from seamline.communications.providers import (
    TWILIO_STATUS_PATH,
    is_twilio_signed,
    is_webhook_signed,
    twilio_outcome,
    webhook_outcome,
)
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, Unauthorized


def build_router(settings: Settings) -> APIRouter:
    """The callback routes, verifying against the configured secrets and this server's public address."""
    router = APIRouter(tags=["providers"])
    base = settings.public_base_url

    @router.post(
        TWILIO_STATUS_PATH,
        status_code=204,
        responses=errors(400, 401),
        summary="Twilio's message status callback (form post signed with X-Twilio-Signature)",
    )
    async def twilio_status(request: Request, ctx: Ctx) -> Response:
        body = await request.body()
        params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        # Twilio signs the URL it was given (ours, under the public address), not the one a proxy forwards.
        url = f"{base}{TWILIO_STATUS_PATH}?{request.url.query}"
        given = request.headers.get("x-twilio-signature", "")
        if settings.sms.provider != "twilio" or not is_twilio_signed(settings.sms.auth_token, url, params, given):
            raise Unauthorized("the X-Twilio-Signature does not sign this callback")
        # The communication id is in the query of the callback URL Seamline gave (read once the signature holds).
        communication_id = request.query_params.get("communication_id", "")
        if not communication_id:
            raise InvalidInput([FieldError("communication_id", "required", "the callback URL names it")])
        found = twilio_outcome(dict(params))
        if found is not None:
            outcome, detail = found
            with unit_of_work(ctx.engine) as session:
                record_callback(session, communication_id, outcome, detail)
        return Response(status_code=204)

    @router.post(
        "/v1/providers/webhook/{channel}",
        status_code=204,
        responses=errors(400, 401),
        summary="A generic provider's delivery callback (JSON signed per Standard Webhooks)",
    )
    async def webhook_callback(channel: Literal["sms", "push"], request: Request, ctx: Ctx) -> Response:
        config = settings.sms if channel == "sms" else settings.push
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if config.provider != "webhook" or not is_webhook_signed(config.secret, headers, body, utcnow()):
            raise Unauthorized("the webhook-signature does not sign this callback (or its timestamp is stale)")
        try:
            parsed = orjson.loads(body)
            communication_id, outcome, detail = webhook_outcome(parsed if isinstance(parsed, dict) else {})
        except (orjson.JSONDecodeError, ValueError) as exc:
            field, _, message = str(exc).partition(": ")
            problem = FieldError(field or "body", "invalid", message or str(exc))
            raise InvalidInput([problem], "not a delivery callback") from None
        with unit_of_work(ctx.engine) as session:
            record_callback(session, communication_id, outcome, detail)
        return Response(status_code=204)

    return router
