"""The wire shapes of SMS and push providers, and of their delivery callbacks. Pure: values in, values out.

- **Twilio** (SMS): the Messages API, `POST {url}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
  `To`, `From` (or `MessagingServiceSid`), `Body`, `StatusCallback`, with HTTP Basic auth (AccountSid:AuthToken).
  Its status callbacks are form posts signed with `X-Twilio-Signature`: base64 HMAC-SHA1, under the auth token, of
  the full callback URL followed by every posted parameter's name and value, sorted by name.
- **FCM HTTP v1** (push): `POST {url}/v1/projects/{project_id}/messages:send`, JSON `{"message": {"token",
  "notification": {"title", "body"}, "data"}}`, with an OAuth 2.0 bearer token. FCM has no delivery callbacks;
  its answer decides (404 `UNREGISTERED`: the device token is gone).
- **Generic webhook** (SMS or push): JSON `{"type": "message.sms", "timestamp", "data": {"communication_id",
  "channel", "to", "title", "text", "callback_url"}}`, signed per Standard Webhooks like our destinations; its
  callbacks are JSON `{"type": "message.delivered", "data": {"communication_id", "reason"}}` signed the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from seamline.communications.config import ProviderConfig
from seamline.communications.service import ACCEPTED, BOUNCED_HARD, CLICKED, DELIVERED, FAILED, OPENED
from seamline.destinations.signing import headers as signed_headers
from seamline.destinations.signing import signature

TWILIO_STATUS_PATH = "/v1/providers/twilio/status"
WEBHOOK_CALLBACK_PATH = "/v1/providers/webhook/{channel}"
TIMESTAMP_TOLERANCE_SECONDS = 300  # Standard Webhooks: refuse a callback older or newer than this (replays)

# How an answer ends an attempt, in the outbox's words.
SENT_ON = "sent"  # handed over: the provider accepted it
RETRY = "retry"
REFUSED = "refused"

# Twilio errors that say the number can never get this message (not a mobile, invalid, replied STOP).
TWILIO_UNREACHABLE = {21211: "invalid number", 21610: "the recipient replied STOP", 21614: "not a mobile number"}
# Twilio's MessageStatus values that say something came of a message (the rest are steps before it).
TWILIO_STATUSES = {"delivered": DELIVERED, "undelivered": BOUNCED_HARD, "failed": BOUNCED_HARD, "read": OPENED}
WEBHOOK_TYPES = {
    "message.delivered": DELIVERED,
    "message.undelivered": BOUNCED_HARD,
    "message.failed": BOUNCED_HARD,
    "message.opened": OPENED,
    "message.clicked": CLICKED,
}


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """One HTTP call to a provider."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    to: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What a provider's answer means: `result` (SENT_ON, RETRY, REFUSED) and the log's outcome."""

    result: str
    outcome: str | None
    detail: str


def twilio_request(
    config: ProviderConfig, *, delivery_id: str, to: str, text: str, callback_base: str
) -> ProviderRequest:
    """A Messages API call; the status callback names the communication in its query."""
    callback = f"{callback_base}{TWILIO_STATUS_PATH}?communication_id={delivery_id}"
    form = {"To": to, "Body": text, "StatusCallback": callback}
    if config.messaging_service_sid:
        form["MessagingServiceSid"] = config.messaging_service_sid
    else:
        form["From"] = config.from_number
    credentials = base64.b64encode(f"{config.account_sid}:{config.auth_token}".encode()).decode("ascii")
    return ProviderRequest(
        f"{config.url.rstrip('/')}/2010-04-01/Accounts/{quote(config.account_sid, safe='')}/Messages.json",
        {
            "authorization": f"Basic {credentials}",
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
        },
        urlencode(form).encode("utf-8"),
        to,
    )


def fcm_request(
    config: ProviderConfig, access_token: str, *, delivery_id: str, to: str, title: str, text: str
) -> ProviderRequest:
    """An FCM HTTP v1 send to one device token."""
    message = {
        "message": {
            "token": to,
            "notification": {"title": title, "body": text},
            "data": {"communication_id": delivery_id},
        }
    }
    return ProviderRequest(
        f"{config.url.rstrip('/')}/v1/projects/{quote(config.project_id, safe='')}/messages:send",
        {"authorization": f"Bearer {access_token}", "content-type": "application/json"},
        orjson.dumps(message),
        to,
    )


def webhook_request(
    config: ProviderConfig,
    *,
    delivery_id: str,
    channel: str,
    to: str,
    title: str,
    text: str,
    callback_base: str,
    now: datetime,
) -> ProviderRequest:
    """The generic shape: a Standard Webhooks-signed JSON message (its `webhook-id` is the communication id)."""
    body = orjson.dumps(
        {
            "type": f"message.{channel}",
            "timestamp": now.astimezone(UTC).isoformat(),
            "data": {
                "communication_id": delivery_id,
                "channel": channel,
                "to": to,
                "title": title,
                "text": text,
                "callback_url": callback_base + WEBHOOK_CALLBACK_PATH.format(channel=channel),
            },
        }
    )
    return ProviderRequest(config.url, signed_headers(config.secret, delivery_id, int(now.timestamp()), body), body, to)


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        value = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def classify(provider: str, status: int, body: bytes) -> Answer:
    """What a provider's HTTP answer means for the message."""
    if provider == "twilio":
        return _twilio_answer(status, body)
    if provider == "fcm":
        if 200 <= status < 300:
            return Answer(SENT_ON, ACCEPTED, f"FCM {_json(body).get('name', 'accepted')}")
        error = _json(body).get("error") or {}
        detail = f"FCM HTTP {status} {error.get('status', '')}: {error.get('message', '')}".strip()
        if status == 404:  # UNREGISTERED: the app was uninstalled or the token expired
            return Answer(REFUSED, BOUNCED_HARD, detail)
        if status == 400:
            return Answer(REFUSED, FAILED, detail)
        return Answer(RETRY, None, detail)
    if 200 <= status < 300:
        return Answer(SENT_ON, ACCEPTED, f"HTTP {status}")
    if status == 422:
        return Answer(REFUSED, BOUNCED_HARD, "HTTP 422: the provider cannot reach this address")
    if 400 <= status < 500 and status not in (401, 403, 408, 429):
        return Answer(REFUSED, FAILED, f"HTTP {status}: refused by the provider")
    return Answer(RETRY, None, f"HTTP {status}")


def _twilio_answer(status: int, body: bytes) -> Answer:
    answer = _json(body)
    if 200 <= status < 300:
        return Answer(SENT_ON, ACCEPTED, f"Twilio {answer.get('sid', '')} {answer.get('status', 'queued')}".strip())
    code = answer.get("code")
    detail = f"Twilio HTTP {status} error {code}: {answer.get('message', '')}".strip()
    if isinstance(code, int) and code in TWILIO_UNREACHABLE:
        return Answer(REFUSED, BOUNCED_HARD, f"{detail} ({TWILIO_UNREACHABLE[code]})")
    if status == 400:
        return Answer(REFUSED, FAILED, detail)
    return Answer(RETRY, None, detail)  # 401/403/404 (credentials, account), 429, 5xx: an operator or time fixes it


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """Twilio's `X-Twilio-Signature` of a callback: the URL, then each parameter's name and value sorted by name."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    # As Twilio's own RequestValidator: names sorted, each name's distinct values sorted.
    signed = url + "".join(f"{name}{value}" for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode("utf-8"), signed.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def is_twilio_signed(auth_token: str, url: str, params: Sequence[tuple[str, str]], given: str) -> bool:
    """Whether a callback carries Twilio's signature under our auth token (constant-time)."""
    return bool(auth_token and given) and hmac.compare_digest(twilio_signature(auth_token, url, params), given)


def twilio_outcome(params: Mapping[str, str]) -> tuple[str, str] | None:
    """The log outcome and detail a status callback reports; None for the steps before an outcome (sent…)."""
    status = params.get("MessageStatus", "")
    outcome = TWILIO_STATUSES.get(status)
    if outcome is None:
        return None
    detail = f"Twilio {status}"
    if params.get("ErrorCode"):
        detail += f" (error {params['ErrorCode']})"
    return outcome, detail


def is_webhook_signed(secret: str, headers: Mapping[str, str], body: bytes, now: datetime) -> bool:
    """Standard Webhooks verification: a fresh timestamp and one of the `v1,` signatures ours (constant-time)."""
    delivery_id, stamp, given = (headers.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (secret and delivery_id and stamp.isdigit() and given):
        return False
    if abs(now.timestamp() - int(stamp)) > TIMESTAMP_TOLERANCE_SECONDS:
        return False
    expected = signature(secret, delivery_id, int(stamp), body)
    return any(hmac.compare_digest(expected, candidate) for candidate in given.split())


def webhook_outcome(body: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """(communication id, log outcome, detail) of a generic callback; ValueError naming the bad field."""
    kind = body.get("type")
    if kind not in WEBHOOK_TYPES:
        raise ValueError(f"type: one of {', '.join(WEBHOOK_TYPES)}")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("communication_id"), str):
        raise ValueError("data.communication_id: required text")
    reason = data.get("reason")
    return data["communication_id"], WEBHOOK_TYPES[str(kind)], str(reason) if reason else None
