"""The loop a user relies on: serve -> predictions -> corrections -> retrain policy -> new span ->
pipeline -> evaluated against the served model -> pushed only if not worse -> hot-swapped.

Starts from the session's pipeline run (span 0 trained, blessed, pushed) copied into a private
root, so both variants begin from the same served model.
"""

from __future__ import annotations

import csv
import random
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import small_pipeline_config

pytestmark = pytest.mark.e2e


def _loop_root(pipeline_run, root: Path):
    source = pipeline_run.config
    shutil.copytree(source.data_root, root / "data")
    shutil.copytree(source.serving_dir, root / "serving")
    shutil.copy(source.metadata_path, root / "metadata.sqlite")  # artifacts stay at their original URIs
    config = small_pipeline_config(root)
    policy = {"min_new_feedback": 50, "min_accuracy_feedback": 20, "min_drift_rows": 20}
    return config.model_copy(update={"retrain": config.retrain.model_copy(update=policy)})


API_KEY = "continuous-training-key"


def _gateway(config):
    from serving.app import create_app
    from serving.settings import ServingSettings

    settings = ServingSettings(
        model_base_dir=config.serving_dir,
        database_url=_store_url(config),
        poll_seconds=0.2,
        export_data_root=config.data_root,
        api_key=API_KEY,  # feedback is a write: it needs the key
    )
    return TestClient(create_app(settings), headers={"X-API-Key": API_KEY})


def _store_url(config) -> str:
    return f"sqlite:///{config.metadata_path.parent / 'feedback.sqlite'}"


def _classify(client, texts):
    predictions = []
    for i in range(0, len(texts), 32):
        response = client.post("/v1/classify", json={"texts": texts[i : i + 32]})
        assert response.status_code == 200, response.text
        predictions.extend(response.json()["predictions"])
    return predictions


def _served_version(client) -> int:
    return _classify(client, ["This Agreement is governed by the laws of England."])[0]["model_version"]


def _wait_for_version(client, version: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = _served_version(client)
        if served == version:
            return served
        time.sleep(0.3)
    return _served_version(client)


def _span_rows(config, span: int) -> list[tuple[str, str]]:
    with (config.data_root / f"span-{span}" / "feedback.csv").open(newline="", encoding="utf-8") as handle:
        return [(r["text"], r["label"]) for r in csv.DictReader(handle)]


def test_corrections_on_drifted_data_retrain_bless_and_hot_swap(pipeline_run, tmp_path):
    from datagen import generate_rows
    from feedback.store import FeedbackStore
    from lexflow.metadata import lineage as lin
    from lexflow.metadata.store import open_store
    from lexflow.reports import lineage_report as lr
    from lexflow.runs.retrain import retrain

    config = _loop_root(pipeline_run, tmp_path)
    old_version = int(pipeline_run.summary.pushed_version)
    shifted = generate_rows(400, seed=2024, noise=0.0, drift=1.0, source="feedback")
    with _gateway(config) as client:
        assert _served_version(client) == old_version
        predictions = _classify(client, [r["text"] for r in shifted])
        # Users correct what the model gets wrong on the shifted (UK/GDPR-style) drafting.
        sent = []
        for row, prediction in zip(shifted, predictions, strict=True):
            if prediction["label"] != row["label"]:
                response = client.post(
                    "/v1/feedback", json={"prediction_id": prediction["prediction_id"], "label": row["label"]}
                )
                assert response.status_code == 201, response.text
                sent.append((" ".join(row["text"].split()), row["label"]))
        assert len(sent) >= 50, f"the served model got {400 - len(sent)}/400 shifted rows right: no drift to correct"

        report = retrain(config, FeedbackStore(_store_url(config)))
        decision = report.decision
        assert decision.retrain and decision.pending == len(sent)
        assert any("live accuracy" in r for r in decision.reasons)  # every judged prediction was wrong
        assert report.ok, report.error

        # A new span with exactly the feedback rows.
        assert report.exported_span == 1 and report.exported_rows == len(sent)
        assert sorted(_span_rows(config, 1)) == sorted(sent)
        summary = report.summary
        assert summary.new_span == 1 and summary.spans == [0, 1]
        # Drift of the new span against the corpus is measured and reported.
        assert summary.drift.span == 1 and summary.drift.baseline_span == 0 and summary.drift.drifted, summary.drift
        # ... and drawn in the run's HTML report, which the summary links.
        assert "lexflow drift report: span 1 vs. span 0" in Path(summary.drift.report).read_text(encoding="utf-8")
        # Evaluated against the served model on the same window, and better on it.
        assert summary.metrics.baseline_macro_f1 is not None
        assert summary.metrics.macro_f1 > summary.metrics.baseline_macro_f1, summary.metrics
        assert summary.blessed is True and summary.pushed_version is not None
        new_version = int(summary.pushed_version)
        assert new_version > old_version
        # The still-running gateway swaps to it without a restart.
        assert _wait_for_version(client, new_version) == new_version

    store = open_store(config.metadata_path)
    lineage = lin.version_lineage(store, str(new_version))
    assert lineage.spans == [0, 1] and lineage.blessed is True
    assert lineage.baseline_model_uri is not None and 1 in lineage.drift
    # One statistics artifact over the window, labelled with its examples' newest span (StatisticsGen's
    # own typed span is 0 for every span, which must not show).
    assert sorted(lineage.statistics) == [1]
    _, graph = lr.version_graph(store, str(new_version))
    assert lr.stages(graph).query("stage == 'statistics'")["detail"].tolist() == ["span 1"]
    assert lin.versions_fed_by_span(store, 1) == [str(new_version)]
    assert str(old_version) in lin.versions_fed_by_span(store, 0)

    # Nothing new: the policy does not fire again and nothing is exported twice.
    again = retrain(config, FeedbackStore(_store_url(config)))
    assert not again.decision.retrain and again.exported_span is None and again.summary is None


def test_poisoned_feedback_is_not_blessed_and_the_old_version_keeps_serving(pipeline_run, tmp_path):
    from datagen import generate_rows
    from feedback.store import FeedbackStore
    from lexflow.runs.retrain import retrain
    from pipeline.schema_info import label_domain, load_schema

    config = _loop_root(pipeline_run, tmp_path)
    old_version = int(pipeline_run.summary.pushed_version)
    labels = label_domain(load_schema(config.schema_path))
    rng = random.Random(5)
    rows = generate_rows(500, seed=77, source="feedback")
    with _gateway(config) as client:
        predictions = _classify(client, [r["text"] for r in rows])
        for prediction in predictions:  # random labels: an attacker, or a broken labelling tool
            response = client.post(
                "/v1/feedback", json={"prediction_id": prediction["prediction_id"], "label": rng.choice(labels)}
            )
            assert response.status_code == 201

        report = retrain(config, FeedbackStore(_store_url(config)))
        assert report.decision.retrain and report.exported_span == 1 and report.exported_rows == len(rows)
        summary = report.summary
        assert summary is not None and summary.metrics.baseline_macro_f1 is not None
        assert summary.blessed is False, summary.metrics
        assert summary.pushed_version is None
        assert sorted(p.name for p in (config.serving_dir / config.model_name).iterdir()) == [str(old_version)]
        time.sleep(1.0)  # several poll intervals: nothing new to pick up
        assert _served_version(client) == old_version


def test_spans_exported_but_never_trained_on_trigger_a_retrain_and_are_named(pipeline_run, tmp_path):
    """Two exports between runs (or an export whose run failed): the policy notices and says which spans;
    the next run's window (every span on disk) trains on them."""
    from datagen import generate_rows, write_csv
    from feedback import FeedbackStore
    from lexflow.runs.retrain import evaluate_policy, untrained_spans

    config = _loop_root(pipeline_run, tmp_path)
    store = FeedbackStore(_store_url(config))
    assert untrained_spans(config) == [] and not evaluate_policy(config, store).retrain
    for span in (1, 2):
        write_csv(config.data_root / f"span-{span}" / "feedback.csv", generate_rows(30, seed=span, source="feedback"))
    decision = evaluate_policy(config, store)
    assert untrained_spans(config) == [1, 2]
    assert decision.retrain and "spans 1, 2 exported but never trained on" in decision.reasons
