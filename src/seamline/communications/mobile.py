"""The outbox handler of SMS and push: consent at send time (as email), then one HTTP call to the configured
provider in its wire shape (providers.py). urllib3 keep-alive pools, thread-safe, so a dispatcher's send threads
overlap their round trips.

Delivery is at least once, as for email: a dispatcher killed between the provider's answer and settling sends
the message again after its lease. The generic webhook shape carries the communication id as `webhook-id`, so a
provider can drop the repeat; Twilio and FCM have no such key, so a repeat is possible there (rare: only a crash
in that window makes one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import urllib3
from sqlalchemy.orm import Session

from seamline.communications import providers
from seamline.communications.config import ProviderConfig
from seamline.communications.delivery import ContactPolicy, _log_attempts, screen
from seamline.communications.oauth import ServiceAccountTokens, TokenError
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.outbox.service import DELIVERED, REFUSED, RETRY, Attempt, Entry

_RESULTS = {providers.SENT_ON: DELIVERED, providers.RETRY: RETRY, providers.REFUSED: REFUSED}


class ProviderHandler:
    """SMS or push (`kind`) through one HTTP provider."""

    is_concurrent = True

    def __init__(
        self,
        kind: str,
        config: ProviderConfig,
        consent: ConsentConfig,
        callback_base: str,
        policy: ContactPolicy | None = None,
    ) -> None:
        self.kind = kind
        self._config = config
        self._consent = consent
        self._policy = policy or ContactPolicy()  # suppression, fatigue budget and quiet hours, as for email
        self._callback_base = callback_base.rstrip("/")
        timeout = config.timeout_seconds
        self._http = urllib3.PoolManager(
            num_pools=4,
            maxsize=16,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
        )
        self._tokens: ServiceAccountTokens | None = None  # FCM: tokens minted from a service account key
        if config.provider == "fcm" and config.service_account_file is not None:
            self._tokens = ServiceAccountTokens(config.service_account_file, timeout_seconds=timeout)
        self._token_error = ""

    def _access_token(self) -> str | None:
        if self._tokens is not None:
            try:
                return self._tokens.current()
            except TokenError as exc:
                self._token_error = str(exc)
                return None
        path = self._config.access_token_file
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def check(self, session: Session, entries: Sequence[Entry]) -> Mapping[int, Attempt | Any]:
        config = self._config
        if config.provider == "none":
            why = f"no {self.kind} provider is configured ([{self.kind}] provider)"
            return {e.id: Attempt(e.id, RETRY, why) for e in entries}
        token = self._access_token() if config.provider == "fcm" else ""
        if token is None:
            why = self._token_error or f"no FCM access token in {config.access_token_file}"
            return {e.id: Attempt(e.id, RETRY, why) for e in entries}
        stopped, going = screen(session, entries, self.kind, self._consent, self._policy)
        out: dict[int, Attempt | Any] = dict(stopped)
        for entry in entries:
            check = going.get(entry.id)
            if check is not None and check.address is not None:
                out[entry.id] = self._request(entry, check.address, token)
        return out

    def _request(self, entry: Entry, to: str, token: str) -> providers.ProviderRequest:
        payload = entry.payload
        title = str(payload.get("subject") or "")
        text = str(payload.get("sms") or payload.get("text") or "").strip()
        config = self._config
        if config.provider == "twilio":
            return providers.twilio_request(
                config, delivery_id=entry.delivery_id, to=to, text=text, callback_base=self._callback_base
            )
        if config.provider == "fcm":
            return providers.fcm_request(config, token, delivery_id=entry.delivery_id, to=to, title=title, text=text)
        return providers.webhook_request(
            config,
            delivery_id=entry.delivery_id,
            channel=self.kind,
            to=to,
            title=title,
            text=text,
            callback_base=self._callback_base,
            now=utcnow(),
        )

    def send(self, entry: Entry, plan: Any) -> Attempt:
        assert isinstance(plan, providers.ProviderRequest)
        request = plan
        try:
            answer = self._http.request(
                "POST", request.url, body=request.body, headers=dict(request.headers), preload_content=True
            )
        except urllib3.exceptions.HTTPError as exc:
            return Attempt(entry.id, RETRY, f"{self._config.provider}: {type(exc).__name__}: {exc}", address=request.to)
        meaning = providers.classify(self._config.provider, answer.status, answer.data)
        return Attempt(entry.id, _RESULTS[meaning.result], meaning.detail, outcome=meaning.outcome, address=request.to)

    def record(self, session: Session, done: Sequence[tuple[Entry, Attempt]], statuses: Mapping[int, str]) -> None:
        _log_attempts(session, done, statuses)

    def close(self) -> None:
        self._http.clear()
        if self._tokens is not None:
            self._tokens.close()
