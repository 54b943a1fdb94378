"""Synthetic Segment traffic and the load generator of benchmarks/ingest.py.

Events look like what analytics.js and the mobile SDKs send (identify, track and page with library, page,
device and campaign context). Request bodies are serialized once, as templates whose message ids carry a
fixed-width placeholder; each request only swaps in its own number, so every message id of a run is unique and
the generator spends its time on the socket, not on building JSON.
"""

from __future__ import annotations

import asyncio
import base64
import random
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

PLACEHOLDER = b"@@REQUEST@"  # replaced by the request number, "%010d": same width, so Content-Length holds
TEMPLATE_COUNT = 64

_PRODUCTS = [
    ("sku-10482", "Merino Crew Sweater", 89.0),
    ("sku-20917", "Trail Running Shoe", 129.95),
    ("sku-31550", "Insulated Water Bottle 750ml", 34.5),
    ("sku-44120", "Wireless Noise-Cancelling Headphones", 249.0),
    ("sku-58003", "Organic Cotton Bedsheet Set", 119.0),
]
_PAGES = [
    ("/", "Home | Northwind"),
    ("/collections/new-arrivals", "New Arrivals | Northwind"),
    ("/products/trail-running-shoe", "Trail Running Shoe | Northwind"),
    ("/cart", "Your Cart | Northwind"),
    ("/account/orders", "Order History | Northwind"),
]
_TRACKS = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Products Searched"]
_USER_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
]
_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson"]


def _ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _web_context(rng: random.Random, path: str, title: str) -> dict[str, Any]:
    context: dict[str, Any] = {
        "library": {"name": "analytics.js", "version": "next-1.72.0"},
        "page": {
            "path": path,
            "referrer": rng.choice(["https://www.google.com/", "", "https://news.ycombinator.com/"]),
            "title": title,
            "url": f"https://shop.example{path}",
        },
        "userAgent": rng.choice(_USER_AGENTS),
        "locale": "en-US",
    }
    if rng.random() < 0.25:
        context["campaign"] = {"source": "newsletter", "medium": "email", "name": "spring_sale"}
    return context


def _mobile_context(rng: random.Random) -> dict[str, Any]:
    return {
        "app": {"name": "Northwind", "version": "4.12.0", "build": "4120"},
        "device": {"id": str(uuid.UUID(int=rng.getrandbits(128))), "manufacturer": "Apple", "model": "iPhone14,5"},
        "library": {"name": "analytics-ios", "version": "4.1.8"},
        "locale": "en-US",
        "network": {"wifi": rng.random() < 0.7},
        "os": {"name": "iOS", "version": "17.4.1"},
        "timezone": "America/New_York",
    }


def _event(rng: random.Random, prefix: str, index: int, now: datetime) -> dict[str, Any]:
    """Identify 20%, page 25% (web only), track the rest; 70% from a browser, 30% from the iOS SDK."""
    kind = rng.random()
    web = rng.random() < 0.7
    anonymous_id = str(uuid.UUID(int=rng.getrandbits(128)))
    user_id = f"u-{rng.randrange(1, 2_000_000):07d}" if kind < 0.2 or rng.random() < 0.5 else None
    message: dict[str, Any] = {
        "messageId": f"{prefix}-{PLACEHOLDER.decode()}-{index:03d}",
        "anonymousId": anonymous_id,
        "timestamp": _ms(now - timedelta(milliseconds=rng.randrange(50, 5_000))),
    }
    if user_id is not None:
        message["userId"] = user_id
    if kind < 0.2:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        message["type"] = "identify"
        message["traits"] = {
            "email": f"{first.lower()}.{last.lower()}{rng.randrange(100)}@example.com",
            "firstName": first,
            "lastName": last,
            "plan": rng.choice(["free", "plus", "premium"]),
            "createdAt": _ms(now - timedelta(days=rng.randrange(1, 900))),
        }
    elif kind < 0.45 and web:
        path, title = rng.choice(_PAGES)
        message["type"] = "page"
        message["name"] = title.split(" | ")[0]
        message["properties"] = {"path": path, "title": title, "url": f"https://shop.example{path}"}
    else:
        sku, name, price = rng.choice(_PRODUCTS)
        message["type"] = "track"
        message["event"] = rng.choice(_TRACKS)
        message["properties"] = {
            "product_id": sku,
            "name": name,
            "price": price,
            "quantity": rng.randrange(1, 4),
            "currency": "USD",
        }
    if web:
        path, title = rng.choice(_PAGES)
        message["context"] = _web_context(rng, path, title)
    else:
        message["context"] = _mobile_context(rng)
    return message


def make_templates(seed: int, prefix: str, batch_size: int) -> list[bytes]:
    """Batch bodies with the request number left as PLACEHOLDER in every message id."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    templates = []
    for _ in range(TEMPLATE_COUNT):
        batch = [_event(rng, prefix, i, now) for i in range(batch_size)]
        templates.append(orjson.dumps({"batch": batch, "sentAt": _ms(now)}))
    return templates


def request_body(templates: list[bytes], number: int) -> bytes:
    """The body of request `number`: its template with the number in each message id."""
    return templates[number % len(templates)].replace(PLACEHOLDER, b"%010d" % number)


@dataclass(frozen=True)
class LoadPlan:
    host: str
    port: int
    write_key: str
    connections: int
    warmup_seconds: float
    seconds: float
    seed: int
    prefix: str
    batch_size: int
    rate: float = 0.0  # events per second offered on a fixed schedule; 0: each connection sends back to back


@dataclass
class LoadResult:
    ok_requests: int = 0  # every 200, warm-up included: what the database must hold
    measured_ok_requests: int = 0  # 200s that completed inside the measured window
    measured_seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # of the measured 200s
    statuses: dict[int, int] = field(default_factory=dict)  # non-200 answers
    errors: dict[str, int] = field(default_factory=dict)  # connection failures, by exception type
    cpu_seconds: float = 0.0
    event_bytes: float = 0.0


async def _connection(
    plan: LoadPlan, templates: list[bytes], numbers: Iterator[int], result: LoadResult, started: float
) -> None:
    auth = base64.b64encode(f"{plan.write_key}:".encode()).decode()
    heads = [
        (
            f"POST /v1/batch HTTP/1.1\r\nHost: {plan.host}:{plan.port}\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(template)}\r\n\r\n"
        ).encode()
        for template in templates
    ]
    window_start = started + plan.warmup_seconds
    deadline = window_start + plan.seconds
    # Paced: request n is due at started + n / requests_per_second, and its latency counts from then, so time spent
    # queued behind slow answers counts too (no coordinated omission).
    requests_per_second = plan.rate / plan.batch_size
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    while time.perf_counter() < deadline:
        try:
            if writer is None or reader is None:
                reader, writer = await asyncio.open_connection(plan.host, plan.port)
            number = next(numbers)
            body = request_body(templates, number)
            sent = time.perf_counter()
            if requests_per_second > 0:
                due = started + number / requests_per_second
                if due > deadline:
                    break
                if due > sent:
                    await asyncio.sleep(due - sent)
                sent = due
            writer.writelines((heads[number % len(heads)], body))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            at = lower.index(b"content-length:") + 15
            await reader.readexactly(int(lower[at : lower.index(b"\r\n", at)]))
            done = time.perf_counter()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            name = type(exc).__name__
            result.errors[name] = result.errors.get(name, 0) + 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            continue
        if status != 200:
            result.statuses[status] = result.statuses.get(status, 0) + 1
            continue
        result.ok_requests += 1
        if window_start <= done <= deadline:  # by completion time: unbiased at both edges of the window
            result.measured_ok_requests += 1
            result.latencies_ms.append((done - sent) * 1000)
    if writer is not None:
        writer.close()


async def _drive(plan: LoadPlan, templates: list[bytes]) -> LoadResult:
    result = LoadResult(measured_seconds=plan.seconds)
    numbers = iter(range(1 << 40))  # one event loop thread: a plain iterator is a safe shared counter
    started = time.perf_counter()
    await asyncio.gather(*(_connection(plan, templates, numbers, result, started) for _ in range(plan.connections)))
    return result


def run_load(plan: LoadPlan, on_start: Callable[[], None] = lambda: None) -> LoadResult:
    """Drive the server with `plan.connections` keep-alive connections; runs in its own process."""
    templates = make_templates(plan.seed, plan.prefix, plan.batch_size)
    on_start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        import uvloop  # optional: the cheapest event loop when it is installed

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(_drive(plan, templates))
    after = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result.event_bytes = sum(len(t) for t in templates) / (len(templates) * plan.batch_size)
    return result
