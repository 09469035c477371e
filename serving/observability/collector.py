"""Gauges computed on every scrape of /metrics, so they are current without anyone calling /v1/health.

The model gauges read this replica's memory (router, backend). The store-backed ones (live
accuracy, pending feedback, shadow agreement) come from a snapshot that is recomputed at most
every `cache_seconds`, by one scrape at a time, so a scrape storm (or several Prometheus
servers) cannot overload the store; while the store is down the last snapshot is kept and
lexflow_store_up says 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from feedback import FeedbackStore, ShadowAgreement, VersionHealth, is_unavailable
from serving.backends.base import ModelBackend
from serving.routing.selector import VersionSelector
from serving.store_health import StoreHealth


@dataclass(frozen=True)
class StoreSnapshot:
    health: list[VersionHealth] = field(default_factory=list)
    pending: int = 0
    shadow: list[ShadowAgreement] = field(default_factory=list)


class GatewayCollector(Collector):
    def __init__(
        self,
        store: FeedbackStore,
        selector: VersionSelector,
        backend: ModelBackend,
        health: StoreHealth,
        cache_seconds: float = 5.0,
    ):
        self.store, self.selector, self.backend, self.health = store, selector, backend, health
        self.cache_seconds = cache_seconds
        self._snapshot = StoreSnapshot()
        self._taken_at = float("-inf")
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        return _families()

    def snapshot(self) -> StoreSnapshot:
        with self._lock:  # one refresh at a time; the others wait and read its result
            if time.monotonic() - self._taken_at >= self.cache_seconds:
                try:
                    self._snapshot = StoreSnapshot(
                        self.store.health(), self.store.pending_count(), self.store.shadow_agreement()
                    )
                    self.health.ok()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    self.health.failed(exc)
                self._taken_at = time.monotonic()
            return self._snapshot

    def collect(self) -> Iterable[Metric]:
        snapshot = self.snapshot()
        families = {family.name: family for family in _families()}
        ready, _ = self.selector.ready()
        families["lexflow_model_ready"].add_metric([], 1.0 if ready else 0.0)
        families["lexflow_model_versions_loaded"].add_metric([], float(len(self.backend.versions())))
        families["lexflow_store_up"].add_metric([], 1.0 if self.health.up else 0.0)
        families["lexflow_feedback_pending"].add_metric([], float(snapshot.pending))
        for version in snapshot.health:
            if version.live_accuracy is not None:
                families["lexflow_live_accuracy"].add_metric([str(version.version)], version.live_accuracy)
        for pair in snapshot.shadow:
            if pair.agreement is not None:
                labels = [str(pair.version), str(pair.shadow_version)]
                families["lexflow_shadow_agreement"].add_metric(labels, pair.agreement)
        return list(families.values())


def _families() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "lexflow_live_accuracy",
            "Share of judged predictions (the latest correction of each) that were right",
            labels=["version"],
        ),
        GaugeMetricFamily("lexflow_model_ready", "1: a version is loaded and every version routing names is servable"),
        GaugeMetricFamily("lexflow_model_versions_loaded", "Model versions loaded and ready to answer"),
        GaugeMetricFamily("lexflow_feedback_pending", "Feedback rows no export has claimed yet"),
        GaugeMetricFamily(
            "lexflow_shadow_agreement",
            "Share of shadowed predictions where the shadow version chose the label that was answered",
            labels=["version", "shadow_version"],
        ),
        GaugeMetricFamily("lexflow_store_up", "1: the feedback store answered its last check"),
    ]
