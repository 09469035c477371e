"""Prometheus metrics of the gateway (exposed at /metrics).

Counted as requests happen: lexflow_requests_total{route,status}, lexflow_request_seconds{route},
lexflow_predictions_total{version,label}, lexflow_feedback_total{version,correct},
lexflow_model_errors_total{version}. Computed on every scrape (serving/observability/collector.py, registered
by the gateway at start; the store-backed ones cached for `metrics_cache_seconds`):
lexflow_live_accuracy{version}, lexflow_model_ready, lexflow_model_versions_loaded,
lexflow_feedback_pending, lexflow_shadow_agreement{version,shadow_version}, lexflow_store_up.
"""

import os
import time
from typing import Any, Optional

from fastapi.telemetry import TelemetryConfig
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
        self._by_route: dict[tuple[str, int], tuple[Any, Any]] = {}

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

    def request_children(self, path: str, status: int) -> tuple[Any, Any]:
        """(lexflow_requests_total{route,status}, lexflow_request_seconds{route}) children, remembered."""
        key = (path, status)
        found = self._by_route.get(key)
        if found is None:
            found = self._by_route[key] = (self.child(self.requests, path, str(status)), self.child(self.latency, path))
        return found


def fastapi_telemetry() -> Optional[TelemetryConfig]:
    """FastAPI's OpenTelemetry settings for the gateway (`FastAPI(telemetry=...)`): its defaults (None)
    when OpenTelemetry is configured in this process at start (e.g. `opentelemetry-instrument lexflow
    serve`) or FastAPI is to configure it (FASTAPI_OTEL_AUTO_CONFIGURE), else off. Left on, FastAPI
    asks on every request whether a provider has been configured since (environment reads and
    provider look-ups, ~10 us of a request's ~150 us on the event loop); the gateway's own
    metrics are Prometheus's."""
    if os.getenv("FASTAPI_OTEL_AUTO_CONFIGURE", "").lower() == "true":
        return None
    from opentelemetry import _logs, metrics, trace

    providers = (trace.get_tracer_provider(), metrics.get_meter_provider(), _logs.get_logger_provider())
    if any(type(p).__name__ not in _UNCONFIGURED for p in providers):
        return None
    return {"tracing": False, "metrics": False, "logs": False}


# What OpenTelemetry's API hands out until a provider is set (what FastAPI checks for, too).
_UNCONFIGURED = frozenset({"ProxyTracerProvider", "_ProxyMeterProvider", "ProxyLoggerProvider"})


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
            counted, timed = self.metrics.request_children(getattr(scope.get("route"), "path", "unmatched"), status)
            counted.inc()
            timed.observe(time.perf_counter() - start)
