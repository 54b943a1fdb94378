"""The webhooks' HTTP/1.1 client against real sockets on loopback: kept connections, answers of every framing,
a far side that lets a kept connection go, timeouts, refusals and answers that are not HTTP."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from seamline.core.webpost import Poster, PostError

Reply = Callable[[socket.socket, bytes], bool]  # answers one request; False closes the connection


def _request(connection: socket.socket) -> bytes:
    """One whole request (head and Content-Length body), or b"" when the client closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(65536)
    return data


@contextmanager
def _server(reply: Reply) -> Iterator[tuple[str, list[bytes], list[int]]]:
    """A loopback server: (URL, every request it read, how many connections it accepted)."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[bytes] = []
    connections = [0]

    def serve(connection: socket.socket) -> None:
        with connection:
            while request := _request(connection):
                requests.append(request)
                if not reply(connection, request):
                    return

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connections[0] += 1
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks?x=1", requests, connections
    finally:
        listener.close()


def _answer(raw: bytes, *, keep: bool = True) -> Reply:
    def reply(connection: socket.socket, _request: bytes) -> bool:
        connection.sendall(raw)
        return keep

    return reply


@contextmanager
def _posting(read_timeout: float = 5.0) -> Iterator[Poster]:
    poster = Poster(connect_timeout=2.0, read_timeout=read_timeout, keep=4)
    try:
        yield poster
    finally:
        poster.close()


def test_posts_reuse_one_kept_connection_and_carry_body_and_headers() -> None:
    with _server(_answer(b"HTTP/1.1 204 No Content\r\n\r\n")) as (url, requests, connections), _posting() as poster:
        assert [poster.post(url, b'{"n":%d}' % n, {"webhook-id": f"msg_{n}"}) for n in range(3)] == [204] * 3
    assert connections[0] == 1
    first = requests[0]
    assert first.startswith(b"POST /hooks?x=1 HTTP/1.1\r\n")
    assert b"\r\nwebhook-id: msg_0\r\n" in first
    assert b"\r\nContent-Length: 7\r\n" in first
    assert first.endswith(b'\r\n\r\n{"n":0}')


def test_answers_with_a_body_chunked_or_running_to_the_close_are_read_whole() -> None:
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    with _server(_answer(chunked)) as (url, _requests, connections), _posting() as poster:
        assert poster.post(url, b"{}", {}) == 200
        assert poster.post(url, b"{}", {}) == 200  # the chunked body was consumed: the next answer is its own
        assert connections[0] == 1
    to_close = b"HTTP/1.0 202 Accepted\r\n\r\nno length, the body ends with the connection"
    with _server(_answer(to_close, keep=False)) as (url, _requests, connections), _posting() as poster:
        assert poster.post(url, b"{}", {}) == 202
        assert poster.post(url, b"{}", {}) == 202
        assert connections[0] == 2  # an HTTP/1.0 answer is not kept


def test_an_interim_answer_is_followed_by_the_real_one() -> None:
    both = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 410 Gone\r\nContent-Length: 0\r\n\r\n"
    with _server(_answer(both)) as (url, _requests, _connections), _posting() as poster:
        assert poster.post(url, b"{}", {}) == 410


def test_a_kept_connection_the_far_side_let_go_is_replaced_without_a_failure() -> None:
    # The server answers each request and then closes: the client keeps the connection (the answer did not say
    # close), finds it closed on the next post, and posts again on a new one.
    closing = _answer(b"HTTP/1.1 204 No Content\r\n\r\n", keep=False)
    with _server(closing) as (url, requests, connections), _posting() as poster:
        assert [poster.post(url, b"{}", {}) for _ in range(3)] == [204] * 3
    assert connections[0] == 3
    assert len(requests) == 3


def test_a_silent_server_times_out_and_a_closed_port_is_refused() -> None:
    def hang(connection: socket.socket, _request: bytes) -> bool:
        threading.Event().wait(1.0)
        return False

    silent = _server(hang)
    with silent as (url, _requests, _connections), _posting(read_timeout=0.2) as poster, pytest.raises(TimeoutError):
        poster.post(url, b"{}", {})
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    with _posting() as poster, pytest.raises(ConnectionRefusedError):
        poster.post(closed, b"{}", {})


def test_an_answer_that_is_not_http_and_bad_input_are_errors() -> None:
    with _server(_answer(b"SSH-2.0-OpenSSH_9.6\r\n")) as (url, _requests, _connections), _posting() as poster:
        with pytest.raises(PostError, match="not an HTTP answer"):
            poster.post(url, b"{}", {})
        with pytest.raises(PostError, match="line break"):
            poster.post(url, b"{}", {"webhook-id": "msg_1\r\nX-Injected: 1"})
        with pytest.raises(PostError, match="not an http"):
            poster.post("ftp://example.com/", b"{}", {})
