"""Prometheus metrics of the gateway (exposed at /metrics).

Counted as requests happen: lexflow_requests_total{route,status}, lexflow_request_seconds{route},
lexflow_predictions_total{version,label}, lexflow_feedback_total{version,correct},
lexflow_model_errors_total{version}. Computed on every scrape (serving/collector.py, registered
by the gateway at start; the store-backed ones cached for `metrics_cache_seconds`):
lexflow_live_accuracy{version}, lexflow_model_ready, lexflow_model_versions_loaded,
lexflow_feedback_pending, lexflow_shadow_agreement{version,shadow_version}, lexflow_store_up.
"""

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.requests = Counter("lexflow_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram(
            "lexflow_request_seconds",
            "Request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.predictions = Counter(
            "lexflow_predictions_total",
            "Predictions by version and class",
            ["version", "label"],
            registry=self.registry,
        )
        self.feedback = Counter(
            "lexflow_feedback_total",
            "Feedback by version and agreement",
            ["version", "correct"],
            registry=self.registry,
        )
        self.errors = Counter("lexflow_model_errors_total", "Backend failures", ["version"], registry=self.registry)
        self._children: dict = {}

    def attach(self, collector: Collector) -> None:
        """Metrics computed at scrape time (the gateway's state and store); `detach` at shutdown."""
        self.registry.register(collector)

    def detach(self, collector: Collector) -> None:
        self.registry.unregister(collector)

    def error_count(self) -> int:
        """Backend failures counted so far, over every version."""
        return int(sum(s.value for m in self.errors.collect() for s in m.samples if s.name.endswith("_total")))

    def child(self, metric: Any, *labels: str) -> Any:
        """`metric.labels(*labels)`, remembered: prometheus_client validates and locks on every
        `labels()` call, which adds up on the per-request path. Children are never removed."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found


class ObserveRequests:
    """ASGI middleware: counts requests by route and status and times them.

    Plain ASGI rather than `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every
    request through an extra task group and memory streams, which cost more CPU than the
    classification itself under load (see benchmarks/results/serving.md).
    """

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # an exception that escapes the app becomes a 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            metrics = self.metrics
            metrics.child(metrics.requests, path, str(status)).inc()
            metrics.child(metrics.latency, path).observe(time.perf_counter() - start)
