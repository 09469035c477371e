"""Drift reports end to end: the real pushed model serves traffic through the gateway;
`lexflow drift --live` measures that traffic against the served model's training window (found
in MLMD), and the same gateway lists and serves the report and exports its verdict as
lexflow_drift_detected. Also a pipeline run's DriftCheck report, published to the same directory."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from tests.conftest import small_pipeline_config

pytestmark = pytest.mark.e2e


def _gauge(client) -> list[str]:
    return [line for line in client.get("/metrics").text.splitlines() if line.startswith("lexflow_drift_detected")]


def _classify(client, texts: list[str]) -> None:
    for i in range(0, len(texts), 32):
        assert client.post("/v1/classify", json={"texts": texts[i : i + 32]}).status_code == 200


def test_live_drift_report_is_served_by_the_gateway_with_its_verdict(pipeline_run, tmp_path):
    from datagen import generate_rows
    from feedback import FeedbackStore
    from lexflow.metadata.store import open_store
    from lexflow.reports import drift_reports
    from serving.app import create_app
    from serving.settings import ServingSettings

    source = pipeline_run.config
    shutil.copy(source.metadata_path, tmp_path / "metadata.sqlite")  # artifacts stay at their original URIs
    config = small_pipeline_config(tmp_path).model_copy(update={"data_root": source.data_root})
    reports_dir, url = tmp_path / "reports", f"sqlite:///{tmp_path}/feedback.sqlite"
    settings = ServingSettings(model_base_dir=source.serving_dir, database_url=url, reports_dir=reports_dir)
    with TestClient(create_app(settings)) as client:
        assert _gauge(client) == []  # no live report yet
        _classify(client, [r["text"] for r in generate_rows(200, seed=31)])
        calm = drift_reports.live_report(config, FeedbackStore(url), reports_dir, last=200)
        # The window is what the served version was trained on, read from MLMD.
        assert calm.window.spans == [0] and f"served version {pipeline_run.summary.pushed_version}" in (
            calm.window.source
        )
        assert not calm.result.drifted, calm.result.describe()
        assert _gauge(client) == ["lexflow_drift_detected 0.0"]

        _classify(client, [r["text"] for r in generate_rows(200, seed=32, drift=1.0)])
        shifted = drift_reports.live_report(config, FeedbackStore(url), reports_dir, last=200)
        assert shifted.result.drifted, shifted.result.describe()
        assert _gauge(client) == ["lexflow_drift_detected 1.0"]

        listing = client.get("/v1/reports").json()
        assert listing["live_drift"]["drifted"] is True and listing["live_drift"]["report"] == shifted.path.name
        assert {r["name"] for r in listing["reports"]} >= {calm.path.name, shifted.path.name}
        page = client.get(f"/v1/reports/{shifted.path.name}")
        assert page.status_code == 200 and 'id="verdict">DRIFT' in page.text

        # The pipeline run's own report (span 0: nothing before it), published next to the live ones.
        ref, published = drift_reports.publish_run_report(open_store(config.metadata_path), reports_dir)
        assert ref.span == 0 and published.name == "drift-span-0.html"
        assert "span 0 vs. no previous span" in client.get(f"/v1/reports/{published.name}").text
