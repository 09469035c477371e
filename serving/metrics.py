"""Prometheus metrics of the gateway (exposed at /metrics)."""
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.requests = Counter("lexflow_requests_total", "HTTP requests", ["route", "status"], registry=self.registry)
        self.latency = Histogram("lexflow_request_seconds", "Request latency", ["route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.predictions = Counter("lexflow_predictions_total", "Predictions by version and class",
                                   ["version", "label"], registry=self.registry)
        self.feedback = Counter("lexflow_feedback_total", "Feedback by version and agreement",
                                ["version", "correct"], registry=self.registry)
        self.errors = Counter("lexflow_model_errors_total", "Backend failures", ["version"], registry=self.registry)
        self.live_accuracy = Gauge("lexflow_live_accuracy", "Share of feedback agreeing with the prediction",
                                   ["version"], registry=self.registry)
