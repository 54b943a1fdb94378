"""HTTP/1.1 POSTs over kept-alive connections, for the dispatcher's webhooks: the standard socket and ssl modules,
the answer parsed by httptools (llhttp, Node.js's parser, which uvicorn already brings).

Why not urllib3, which the dispatcher used: on loopback against uvicorn one POST through urllib3's PoolManager
cost ~290 µs of CPU (its pool, retry and timeout objects, and http.client's status line and headers parsed through
the email package), http.client alone ~100 µs, aiohttp ~105 µs, httpx ~385 µs, and this ~15 µs (docs/benchmarks.md,
Outbox). The client was 70 % of a dispatcher's CPU per webhook.

What it does: POST a body with headers to an http or https URL; keep the connection for the next POST to the same
origin (at most `keep` idle per origin) unless the answer says to close; a kept connection that the far side has
closed meanwhile is seen before use (it reads as ready while idle) and replaced, and one that the far side closes
as the request goes out — before any byte of an answer — is tried once more on a new connection (a webhook is
idempotent by its `webhook-id`); TLS with the system's certificates and SNI; a connect timeout, then a read timeout
for each wait. Like the dispatcher before it, it follows no redirect and reads no proxy settings. The answer's body
is read and dropped: past 1 MiB the connection is closed instead of reused.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import httptools

BODY_LIMIT = 1 << 20
_RECEIVE = 65536


class PostError(OSError):
    """An answer that is not HTTP, or a connection that closed before its answer."""


class _ClosedEarly(PostError):
    """The connection closed before any byte of an answer (a kept connection the far side let go)."""


@dataclass(frozen=True, slots=True)
class _Origin:
    key: tuple[str, str, int]
    host: str
    port: int
    is_tls: bool
    path: str
    host_header: str


@lru_cache(maxsize=1024)
def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PostError(f"not an http(s) URL: {url!r}")
    is_tls = parts.scheme == "https"
    port = parts.port or (443 if is_tls else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == (443 if is_tls else 80) else f"{shown}:{port}"
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F for c in path + host_header):
        raise PostError(f"the URL must be plain ASCII without spaces: {url!r}")
    return _Origin((parts.scheme, host, port), host, port, is_tls, path, host_header)


class _Answer:
    """httptools' callbacks: the status of the final answer, whether it is complete, how much body came."""

    __slots__ = ("body_bytes", "is_complete", "is_headed", "is_kept", "parser", "status")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.is_headed = False
        self.is_complete = False
        self.is_kept = False
        self.body_bytes = 0

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.is_headed = self.status >= 200  # a 1xx interim answer is followed by the real one

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        if self.status >= 200:
            self.is_complete = True
            self.is_kept = self.parser.should_keep_alive()  # asked now: the parser forgets once the message ends


class Poster:
    """POSTs from any number of threads, each over a kept connection of its own while it posts."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, keep: int) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._keep = keep
        self._idle: dict[tuple[str, str, int], list[socket.socket]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` and return the answer's status; raises OSError (PostError, TimeoutError, a refused or reset
        connection) when no answer came."""
        origin = _origin(url)
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise PostError(f"the header {name!r} holds a line break")
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            f"POST {origin.path} HTTP/1.1\r\nHost: {origin.host_header}\r\nUser-Agent: seamline\r\n"
            f"Content-Length: {len(body)}\r\n{lines}\r\n"
        ).encode("latin-1") + body
        connection = self._kept(origin)
        if connection is not None:
            try:
                return self._exchange(origin, connection, request)
            except _ClosedEarly:
                pass  # the far side let the kept connection go as we sent: once more on a new one
        return self._exchange(origin, self._connect(origin), request)

    def _exchange(self, origin: _Origin, connection: socket.socket, request: bytes) -> int:
        answer = _Answer()
        received = False
        try:
            connection.sendall(request)
            while not answer.is_complete:
                chunk = connection.recv(_RECEIVE)
                if not chunk:
                    if answer.is_headed:  # a body that runs to the end of the connection
                        break
                    if received:
                        raise PostError("the connection closed in the middle of an answer")
                    raise _ClosedEarly("the connection closed before an answer")
                received = True
                answer.parser.feed_data(chunk)
                if answer.body_bytes > BODY_LIMIT and answer.is_headed:
                    break
        except httptools.HttpParserError as exc:
            connection.close()
            raise PostError(f"not an HTTP answer: {exc}") from exc
        except (ConnectionResetError, BrokenPipeError) as exc:
            connection.close()
            if received:
                raise
            raise _ClosedEarly(f"the connection closed before an answer ({exc})") from exc
        except OSError:
            connection.close()
            raise
        if answer.is_complete and answer.is_kept:
            self._give_back(origin, connection)
        else:
            connection.close()
        return answer.status

    def _connect(self, origin: _Origin) -> socket.socket:
        connection = socket.create_connection((origin.host, origin.port), timeout=self._connect_timeout)
        try:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.is_tls:
                connection = self._tls_context().wrap_socket(connection, server_hostname=origin.host)
            connection.settimeout(self._read_timeout)
        except BaseException:
            connection.close()
            raise
        return connection

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    def _kept(self, origin: _Origin) -> socket.socket | None:
        """An idle connection to this origin that is still open, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(origin.key)
                if not idle:
                    return None
                connection = idle.pop()
            # Idle, a connection has nothing to read: readable means the far side closed it (or broke protocol).
            poller = select.poll()
            poller.register(connection, select.POLLIN)
            if not poller.poll(0):
                return connection
            connection.close()

    def _give_back(self, origin: _Origin, connection: socket.socket) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin.key, [])
            if len(idle) < self._keep:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            kept, self._idle = self._idle, {}
        for connections in kept.values():
            for connection in connections:
                connection.close()
