"""`lexflow_drift_detected`: the verdict of the newest live drift report, as a Prometheus gauge.

`lexflow drift --live` writes the verdict next to its report (core/reports.py); this collector
reads it at every scrape, so a new report counts without a gateway restart. Without a readable
verdict the gauge has no sample (absent, not a reassuring 0). Its own collector rather than a
field of GatewayMetrics: it reads a file, not a value the request path sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from core.reports import read_verdict

DRIFT_DETECTED = "lexflow_drift_detected"
_HELP = "1 when the newest live drift report (lexflow drift --live) found drift, else 0"


class DriftCollector(Collector):
    def __init__(self, reports_dir: Path):
        self.reports_dir = reports_dir

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(DRIFT_DETECTED, _HELP)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(DRIFT_DETECTED, _HELP)
        verdict = read_verdict(self.reports_dir)
        if verdict is not None:
            family.add_metric([], 1.0 if verdict.drifted else 0.0)
        yield family
