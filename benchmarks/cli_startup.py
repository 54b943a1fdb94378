"""CLI start-up benchmark: how long each `seamline` command takes to answer, best of N, as a user types it.

Prints figures; asserts nothing (tests/cli/test_startup.py checks what each command imports, which is what these
times are made of). Each figure is the wall time of a fresh `seamline …` process, from start to exit, the best of
--repeat runs (the best is the one least disturbed by other work on the machine), and beside it the CPU time
(user + system) of that process, which moves much less than the wall time when other work shares the cores; the
load average is printed with the figures, because on a shared machine every figure moves with it. Python's
bytecode is cached (in a temporary folder, so nothing is written into the tree) and each command runs once before
it is timed, as an installed Seamline runs: the figures do not include compiling Seamline's sources, which a
`PYTHONDONTWRITEBYTECODE` in the environment would otherwise add to every start.

1. `seamline --help`, then every top-level command's and group's `--help` (from the CLI's own registry).
2. Simple subcommands that read the database, on a fresh SQLite file brought to the newest schema first:
   `db status`, `sources list`, `keys list`, `outbox status`, `cases list`, `identity merges`, `privacy list`,
   `journeys list`, `tasks list`, `audit list`, `destinations list`, `users list`.

    python benchmarks/cli_startup.py               # best of 3
    python benchmarks/cli_startup.py --repeat 5
    # before/after: the same commands from another checkout's sources, run in turn with this one's (same load)
    git archive 9a67f95 | tar -x -C /tmp/before && python benchmarks/cli_startup.py --against /tmp/before/src
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seamline.cli import COMMANDS

GOAL = 0.5  # seconds: the goal for every command that does not match records
AIM = 0.4  # seconds: the goal with a margin for a slower machine
SUBCOMMANDS = (
    ("db", "status"),
    ("sources", "list"),
    ("keys", "list"),
    ("outbox", "status"),
    ("cases", "list"),
    ("identity", "merges", "1"),
    ("privacy", "list"),
    ("journeys", "list"),
    ("tasks", "list", "--queue", "general"),
    ("audit", "list"),
    ("destinations", "list"),
    ("users", "list"),
)


def _seamline() -> str:
    return str(Path(sys.executable).with_name("seamline"))


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _best(argv: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, int]:
    """The fastest wall time of `repeat` runs, the least CPU time of one, and the exit code of the last."""
    times, cpus = [], []
    code = 0
    for _ in range(repeat):
        start, cpu = time.perf_counter(), _cpu()
        done = subprocess.run(argv, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        cpus.append(_cpu() - cpu)
        code = done.returncode
    return min(times), min(cpus), code


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _row(label: str, seconds: float, cpu: float, code: int, before: tuple[float, float, int] | None = None) -> None:
    mark = "" if seconds < GOAL else f"  (over {GOAL} s)"
    status = "" if code == 0 else f"  exit {code}"
    then = "" if before is None else f"   before: {before[0]:6.3f} s, cpu {before[1]:6.3f} s"
    print(f"  {label:<40} {seconds:6.3f} s   cpu {cpu:6.3f} s{then}{mark}{status}", flush=True)


def _measure(label: str, argv: list[str], env: dict[str, str], repeat: int, against: str | None) -> tuple[float, float]:
    """One row, and its best time and CPU time; with `against`, the other sources' figure beside it, each run in
    turn with this one's."""
    subprocess.run(argv, env=env, capture_output=True, check=False)  # compiles and caches the bytecode it reads
    if against is None:
        best = _best(argv, env, repeat)
        _row(label, *best)
        return best[0], best[1]
    old_env = {**env, "PYTHONPATH": against}
    subprocess.run(argv, env=old_env, capture_output=True, check=False)
    now, then = [], []
    for _ in range(repeat):
        now.append(_best(argv, env, 1))
        then.append(_best(argv, old_env, 1))
    best = (min(t for t, _, _ in now), min(c for _, c, _ in now), now[-1][2])
    _row(label, *best, before=(min(t for t, _, _ in then), min(c for _, c, _ in then), then[-1][2]))
    return best[0], best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="SRC", help="another checkout's src/ folder, measured beside this one")
    args = parser.parse_args()
    seamline = _seamline()
    with tempfile.TemporaryDirectory(prefix="seamline-cli-") as data:
        env = {**os.environ, "SEAMLINE_DATA_DIR": data, "COLUMNS": "100"}
        env |= {"PYTHONPYCACHEPREFIX": str(Path(data) / "pycache")}
        for name in ("SEAMLINE_DATABASE_URL", "SEAMLINE_CONFIG", "PYTHONDONTWRITEBYTECODE"):
            env.pop(name, None)
        subprocess.run([seamline, "db", "upgrade"], env=env, capture_output=True, check=True)
        print(f"seamline start-up, best of {args.repeat} (load average {_load()})")
        helps = [_measure("seamline --help", [seamline, "--help"], env, args.repeat, args.against)]
        for name in COMMANDS:
            helps.append(
                _measure(f"seamline {name} --help", [seamline, name, "--help"], env, args.repeat, args.against)
            )
        print(f"simple subcommands on a fresh SQLite database (load average {_load()})")
        reads = [
            _measure(f"seamline {' '.join(sub)}", [seamline, *sub], env, args.repeat, args.against)
            for sub in SUBCOMMANDS
        ]
        print(f"load average at the end: {_load()}")
        wall, cpu = max(t for t, _ in helps + reads), max(c for _, c in helps + reads)
        print(
            f"slowest command: {wall:.3f} s, most CPU {cpu:.3f} s (goal {GOAL} s, aim {AIM} s of wall time on a quiet"
        )
        print(f"machine: {'met' if wall < AIM else 'not met'} here; under load compare the CPU time, which moves less)")


if __name__ == "__main__":
    main()
