"""How a group committer's gather window groups steady arrivals: commits per item and each item's wait, by window.

Prints figures; asserts nothing. A `GroupCommitter` whose commit is a sleep of --commit-ms (the flush of a quiet
machine's disk takes about a millisecond and little CPU; a sleep holds the writer as long without the disk, so the
grouping is the one a quiet machine would see even when this one is busy) is sent one item every 1/rate seconds
from an event loop (open loop, each item its own task), once per window. Per window: commits per item (each a flush,
~140 µs of CPU on the project's machine) and p50/p90/p99 of each item's wait from its scheduled time to its commit.

    python benchmarks/groupcommit_paced.py                          # 1,000/s, a 1 ms commit, windows 0,1,2,3 ms
    python benchmarks/groupcommit_paced.py --rate 500 --commit-ms 0.5 --windows-ms 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from contextlib import nullcontext
from typing import Any

from sqlalchemy import create_engine

from seamline.core.groupcommit import GroupCommitter


async def paced(window_ms: float, commit_ms: float, rate: int, seconds: float) -> str:
    def write(_transaction: Any, _items: list[int]) -> None:
        time.sleep(commit_ms / 1000)

    engine = create_engine("sqlite://")  # unused: the commits begin nothing (`nullcontext`)
    writer = GroupCommitter(engine, write, name="paced", max_items=1000, begin=nullcontext, gather=window_ms / 1000)
    writer.start()
    loop = asyncio.get_running_loop()

    async def one(n: int, scheduled: float) -> float:
        await writer.submit(n)
        return loop.time() - scheduled

    try:
        for n in range(100):  # the writer learns the rate of nothing: one at a time
            await writer.submit(n)
        count, commits = int(rate * seconds), writer.commits
        started = loop.time()
        tasks = []
        for n in range(count):
            scheduled = started + n / rate
            if scheduled > loop.time():
                await asyncio.sleep(scheduled - loop.time())
            tasks.append(asyncio.create_task(one(n, scheduled)))
        waits = sorted(await asyncio.gather(*tasks))
        commits = writer.commits - commits
    finally:
        writer.stop()
        engine.dispose()

    def at(p: float) -> float:
        return waits[min(len(waits) - 1, int(len(waits) * p))] * 1000

    return (f"  window {window_ms:g} ms: {commits / count:.2f} commits per item; wait p50 {at(0.5):.2f}, "
            f"p90 {at(0.9):.2f}, p99 {at(0.99):.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000, help="items submitted per second")
    parser.add_argument("--commit-ms", type=float, default=1.0, help="how long each commit holds the writer")
    parser.add_argument("--windows-ms", default="0,1,2,3", help="comma-separated gather windows")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(f"{args.rate:,}/s, each commit {args.commit_ms:g} ms; load {os.getloadavg()[0]:.1f}")
    for window in args.windows_ms.split(","):
        print(asyncio.run(paced(float(window), args.commit_ms, args.rate, args.seconds)))


if __name__ == "__main__":
    main()
