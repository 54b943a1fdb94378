"""What one audit commit costs the writer thread, with and without its flush: CPU (user and system), wall time and
voluntary context switches per commit, for groups of 1, 2 and 4 entries.

Prints figures; asserts nothing. The audit writer's own connection (`HeldWriter`) on a SQLite file: each commit is
the write turn, BEGIN IMMEDIATE, the entries' insert into the log and its two indexes, and COMMIT; with the flush
(the default, `read_audit_fsync`) COMMIT waits for the WAL to reach the disk. One thread, no event loop: what is
left of an audited answer's extra CPU beside this is the hand-off and the wake-ups (`readpath_paced.py --ways`).

    python benchmarks/audit_commit.py                     # a fresh database in a temporary folder
    python benchmarks/audit_commit.py --workdir /tmp/rp   # the read path benchmarks' database (1M profiles: a big log)
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from seamline.audit.service import _insert_batches, _row
from seamline.core.db import create_db_engine
from seamline.core.held import HeldWriter
from seamline.core.migrations import upgrade
from seamline.core.principal import Principal

WHO = Principal(name="bench", kind="api_key", scopes=frozenset({"profiles:read"}), surface="api")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=1000, help="per group size and flush setting")
    parser.add_argument("--workdir", default="", help="a folder holding seamline.db (made if missing)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="seamline-audit-commit-"))
    workdir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(f"sqlite:///{workdir / 'seamline.db'}")
    upgrade(engine)
    print(f"{args.commits:,} commits per line; load {os.getloadavg()[0]:.1f}")
    for flush in (True, False):
        held = HeldWriter(engine, flush=flush)
        try:
            for size in (1, 2, 4):
                before, started = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
                for n in range(args.commits):
                    rows = [_row(WHO, "read", "profile", n * 7 + k, {"view": "lookup"}) for k in range(size)]
                    with held.transaction() as transaction:
                        _insert_batches(transaction, [rows])
                after, wall = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter() - started
                user = (after.ru_utime - before.ru_utime) / args.commits * 1e6
                system = (after.ru_stime - before.ru_stime) / args.commits * 1e6
                print(f"  {'flushed' if flush else 'unflushed'}, {size} entries: {user + system:4.0f} us CPU per "
                      f"commit (user {user:.0f}, system {system:.0f}), wall {wall / args.commits * 1e6:,.0f} us, "
                      f"{(after.ru_nvcsw - before.ru_nvcsw) / args.commits:.2f} voluntary switches")  # fmt: skip
        finally:
            held.close()
    engine.dispose()


if __name__ == "__main__":
    main()
