"""Prometheus metrics, one registry per app so that two apps in one process never mix their counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Gauge(Collector):
    """A gauge read at scrape time (from the database)."""

    def __init__(self, name: str, documentation: str, read: Callable[[], int]) -> None:
        self._name, self._documentation, self._read = name, documentation, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(self._name, self._documentation, self._read())


class _Worker(Collector):
    def __init__(self, read: Callable[[], tuple[bool, int]]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        is_alive, restarts = self._read()
        yield GaugeMetricFamily("seamline_worker_up", "1 when the embedded worker is alive, else 0.", int(is_alive))
        yield CounterMetricFamily(
            "seamline_worker_restarts", "Times the embedded worker process was started again.", restarts
        )


class Metrics:
    """The counters and histograms the API and worker update."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_accepted = Counter(
            "seamline_events_accepted", "Events durably accepted.", ["source"], registry=self.registry
        )
        self.events_rejected = Counter(
            "seamline_events_rejected",
            "Requests refused, by source and reason.",
            ["source", "reason"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "seamline_request_duration_seconds",
            "Tracking API request latency.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.events_processed = Counter(
            "seamline_events_processed", "Events processed by this server's embedded worker.", registry=self.registry
        )
        self.event_failures = Counter(
            "seamline_event_failures",
            "Batches or single events this process's worker failed to process (retried, then quarantined).",
            registry=self.registry,
        )

    def watch_backlog(self, read: Callable[[], int]) -> None:
        """Report the inbox backlog, read at scrape time."""
        self.registry.register(_Gauge("seamline_inbox_backlog", "Events accepted but not yet processed.", read))

    def watch_quarantine(self, read: Callable[[], int]) -> None:
        """Report how many events are quarantined, read at scrape time."""
        self.registry.register(
            _Gauge("seamline_events_quarantined", "Events set aside after failing repeatedly (seamline events).", read)
        )

    def watch_worker(self, read: Callable[[], tuple[bool, int]]) -> None:
        """Report whether the embedded worker is alive and how often it was restarted, read at scrape time."""
        self.registry.register(_Worker(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)
