"""A webhook receiver on loopback that verifies Standard Webhooks signatures with the spec's own library, and can
be told to fail (answer 500) or hang."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    """What the receiver saw; set `secret` before deliveries arrive, `status` or `hang_seconds` to misbehave."""

    url: str = ""
    secret: str = ""
    status: int = 204
    hang_seconds: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    forged: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if receiver.hang_seconds:
                threading.Event().wait(receiver.hang_seconds)
            try:
                payload = Webhook(receiver.secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                with receiver.lock:
                    receiver.forged += 1
                self.send_response(401)
                self.end_headers()
                return
            status = receiver.status
            if 200 <= status < 300:
                with receiver.lock:
                    receiver.received.append(payload)
                    receiver.ids.append(self.headers["webhook-id"])
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
