"""Prometheus metrics, one registry per app so that two apps in one process never mix their counts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

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


class _Outbox(Collector):
    """The outbox as every dispatcher left it (read from the database), and this process's dispatcher attempts."""

    def __init__(
        self,
        read: Callable[[], tuple[Mapping[str, int], Mapping[str, float]]],
        attempts: Callable[[], Mapping[tuple[str, str], int]] | None,
    ) -> None:
        self._read, self._attempts = read, attempts

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        statuses, lag = self._read()
        messages = GaugeMetricFamily("seamline_outbox_messages", "Outbox messages by status.", labels=["status"])
        for status, count in sorted(statuses.items()):
            messages.add_metric([status], count)
        yield messages
        waiting = GaugeMetricFamily(
            "seamline_outbox_lag_seconds",
            "How long the longest-waiting due message of each kind has waited for a dispatcher.",
            labels=["kind"],
        )
        for kind, seconds in sorted(lag.items()):
            waiting.add_metric([kind], seconds)
        yield waiting
        if self._attempts is not None:
            tried = CounterMetricFamily(
                "seamline_outbox_attempts",
                "Delivery attempts by this process's dispatcher, by kind and result.",
                labels=["kind", "result"],
            )
            for (kind, result), count in sorted(self._attempts().items()):
                tried.add_metric([kind, result], count)
            yield tried


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

    def watch_outbox(
        self,
        read: Callable[[], tuple[Mapping[str, int], Mapping[str, float]]],
        attempts: Callable[[], Mapping[tuple[str, str], int]] | None = None,
    ) -> None:
        """Report the outbox (counts by status, lag by kind: read at scrape time) and, when this process runs a
        dispatcher, its attempts."""
        self.registry.register(_Outbox(read, attempts))

    def render(self) -> bytes:
        return generate_latest(self.registry)
