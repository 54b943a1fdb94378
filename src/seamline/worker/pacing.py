"""How many events the next batch takes, so that a worker transaction holds SQLite's write lock about so long.

On SQLite every writer waits for the one holding the lock, and a worker batch holds it for its writes (it reads and
resolves the batch before: worker.runner): 5,000 events are ~0.15 s of them on a quiet machine and seconds on a busy
one, and each request the API is writing meanwhile waits that long. A worker running beside a live API sizes its
batches from the time the last full ones held the lock: down at once when one ran long, back up by a quarter per
batch when they ran short, never above the configured batch size nor below `SMALLEST`. A batch that found fewer
events than it asked for says the inbox ran dry, not how fast the worker is, and leaves the size alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SMALLEST = 100
GROWTH = 1.25


@dataclass
class BatchPacer:
    """Batch sizes aimed at `target_seconds` of write lock per transaction."""

    target_seconds: float
    largest: int
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = max(1, min(self.largest, SMALLEST))  # grows to its pace within a few batches

    def record(self, events: int, held_seconds: float, asked: int) -> None:
        """Learn from a batch that asked for `asked` events, got `events` and held the lock `held_seconds`."""
        if events < asked or events == 0 or held_seconds <= 0:
            return
        ideal = self.target_seconds * events / held_seconds
        if ideal < self.size:
            self.size = int(ideal)
        else:
            self.size = int(min(ideal, self.size * GROWTH + 1))
        self.size = max(min(SMALLEST, self.largest), min(self.largest, self.size))
