"""A loopback HTTP server standing for an SMS or push provider: Twilio's Messages API (checks Basic auth, reads the
form), FCM HTTP v1 (checks the bearer token) and the generic JSON shape (verifies the Standard Webhooks signature
with the spec's own library). It answers as the real provider does, and can be told to refuse a number or fail."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio-auth-token-for-tests"
FCM_TOKEN = "ya29.test-access-token"


@dataclass
class Provider:
    """What the provider saw; `answers` maps a recipient to (HTTP status, JSON body) to misbehave for it."""

    url: str = ""
    secret: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0  # requests whose credentials or signature did not check out
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    status: int | None = None  # when set, every request gets this status (an outage: 503)
    delay_seconds: float = 0.0  # a slow provider: each request waits this long before it is answered
    lock: threading.Lock = field(default_factory=threading.Lock)


def _twilio_authorized(headers: Any) -> bool:
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    return bool(headers.get("authorization") == f"Basic {expected}")


@contextmanager
def provider_server() -> Iterator[Provider]:
    provider = Provider()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if provider.delay_seconds:
                threading.Event().wait(provider.delay_seconds)
            seen: dict[str, Any]
            if self.path.endswith("/Messages.json"):
                if not _twilio_authorized(self.headers) or f"/Accounts/{ACCOUNT_SID}/" not in self.path:
                    return self._reject(401, {"code": 20003, "message": "Authenticate"})
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                seen, to = {"shape": "twilio", **form}, form["To"]
                ok: tuple[int, dict[str, Any]] = (201, {"sid": f"SM{len(provider.received):032d}", "status": "queued"})
            elif self.path.endswith("/messages:send"):
                if self.headers.get("authorization") != f"Bearer {FCM_TOKEN}":
                    return self._reject(401, {"error": {"status": "UNAUTHENTICATED"}})
                message = json.loads(body)["message"]
                seen, to = {"shape": "fcm", **message}, message["token"]
                ok = (200, {"name": f"projects/bank/messages/{len(provider.received)}"})
            else:
                try:
                    payload = Webhook(provider.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
                except WebhookVerificationError:
                    return self._reject(401, {})
                seen = {"shape": "webhook", "webhook-id": self.headers["webhook-id"], **payload}
                to = payload["data"]["to"]
                ok = (202, {})
            status, answer = (provider.status, {}) if provider.status else provider.answers.get(to, ok)
            if 200 <= status < 300:
                with provider.lock:
                    provider.received.append(seen)
            self._answer(status, answer)

        def _reject(self, status: int, body: dict[str, Any]) -> None:
            with provider.lock:
                provider.rejected += 1
            self._answer(status, body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
