"""Sends the demo's channel traffic to a running Seamline through its tracking API, as the SDKs would."""

from __future__ import annotations

import base64
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson

log = logging.getLogger("seamline.demo")
BATCH_SIZE = 100


def wait_until_ready(base_url: str, timeout: float = 60.0) -> bool:
    """Poll /healthz until the server answers; False when it never did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=2) as answer:  # noqa: S310 (our own URL)
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def batches(
    messages: Iterable[tuple[str, Mapping[str, Any]]], size: int = BATCH_SIZE
) -> Iterator[tuple[str, list[Mapping[str, Any]]]]:
    """Consecutive runs of messages from one source, at most `size` long, in the order given."""
    source: str | None = None
    run: list[Mapping[str, Any]] = []
    for name, message in messages:
        if run and (name != source or len(run) >= size):
            yield source or "", run
            run = []
        source = name
        run.append(message)
    if run:
        yield source or "", run


def send(base_url: str, keys: Mapping[str, str], messages: Sequence[tuple[str, Mapping[str, Any]]]) -> int:
    """POST the messages to /v1/batch with each source's write key; returns how many were accepted."""
    accepted = 0
    for source, run in batches(messages):
        auth = base64.b64encode(f"{keys[source]}:".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (our own URL)
            f"{base_url}/v1/batch",
            data=orjson.dumps({"batch": run}),
            headers={"Content-Type": "application/json", "Authorization": f"Basic {auth}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  # our own server, an http(s) URL
                if answer.status == 200:
                    accepted += len(run)
        except urllib.error.HTTPError as exc:
            log.warning("demo batch from %s refused: %s %s", source, exc.code, exc.read()[:300])
    return accepted
