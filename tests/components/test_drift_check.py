"""DriftCheck: the measures (TFDV comparators), the executor on real ExampleGen-style files, the report."""

from __future__ import annotations

import json
import os

import pytest

from components.drift_check import DriftError, Sample, Thresholds, measure_drift
from datagen import generate_rows

THRESHOLDS = Thresholds(label_linf=0.2, length_jsd=0.2, vocabulary_jsd=0.1, oov_rate=0.2)


@pytest.fixture(scope="module")
def corpus() -> Sample:
    return Sample.from_rows(generate_rows(600, seed=1))


def test_same_distribution_does_not_drift(corpus):
    result = measure_drift(Sample.from_rows(generate_rows(200, seed=2)), corpus, THRESHOLDS)
    assert not result.drifted, result.describe()
    assert {(m.feature, m.metric) for m in result.measures} == {
        ("label", "L_INFTY"),
        ("text_length", "JENSEN_SHANNON_DIVERGENCE"),
        ("vocabulary", "JENSEN_SHANNON_DIVERGENCE"),
        ("vocabulary", "OOV_RATE"),
    }


def test_shifted_drafting_style_drifts_on_vocabulary(corpus):
    result = measure_drift(Sample.from_rows(generate_rows(200, seed=2, drift=1.0)), corpus, THRESHOLDS)
    assert result.drifted
    assert ("vocabulary", "JENSEN_SHANNON_DIVERGENCE") in {(m.feature, m.metric) for m in result.drifted_measures()}
    assert result.describe().startswith("DRIFT")


def test_label_shift_drifts_on_labels(corpus):
    rows = [r for r in generate_rows(400, seed=3) if r["label"] == "termination"][:60]
    result = measure_drift(Sample.from_rows(rows), corpus, THRESHOLDS)
    label = next(m for m in result.measures if m.feature == "label")
    assert label.drifted and label.value > 0.5


def test_no_previous_span_is_reported_not_guessed(corpus):
    result = measure_drift(corpus, Sample([], []), THRESHOLDS)
    assert not result.drifted and result.measures == [] and "no previous span" in result.describe()


def _examples_artifact(root, rows, span):
    """An Examples artifact laid out as ExampleGen writes it (Split-*/ gzipped tf.Examples)."""
    import tensorflow as tf
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Examples()
    artifact.uri = str(root)
    artifact.split_names = '["train", "eval"]'
    artifact.set_int_custom_property("span", span)
    for split, part in (("train", rows[::2]), ("eval", rows[1::2])):
        os.makedirs(root / f"Split-{split}")
        with tf.io.TFRecordWriter(str(root / f"Split-{split}" / "data.gz"), options="GZIP") as writer:
            for row in part:
                example = tf.train.Example()
                example.features.feature["text"].bytes_list.value.append(row["text"].encode())
                example.features.feature["label"].bytes_list.value.append(row["label"].encode())
                writer.write(example.SerializeToString())
    return artifact


def _run(tmp_path, current_rows, baseline_rows, fail_on_drift=False):
    import dataclasses

    from components.drift_check.executor import Executor
    from components.drift_check.spec import DriftReport

    report = DriftReport()
    report.uri = str(tmp_path / "report")
    os.makedirs(report.uri)
    inputs = {"examples": [_examples_artifact(tmp_path / "current", current_rows, span=3)]}
    if baseline_rows is not None:
        inputs["baseline_examples"] = [_examples_artifact(tmp_path / "baseline", baseline_rows, span=2)]
    Executor().Do(
        inputs,
        {"drift_report": [report]},
        {"thresholds": json.dumps(dataclasses.asdict(THRESHOLDS)), "fail_on_drift": int(fail_on_drift)},
    )
    return report, json.loads((tmp_path / "report" / "drift.json").read_text())


def test_executor_reads_every_split_and_records_the_report(tmp_path):
    report, payload = _run(tmp_path, generate_rows(120, seed=4, drift=1.0), generate_rows(300, seed=5))
    assert payload["current_rows"] == 120 and payload["baseline_rows"] == 300
    assert payload["span"] == 3 and payload["baseline_span"] == 2 and payload["drifted"] is True
    assert report.get_int_custom_property("drifted") == 1
    assert report.get_float_custom_property("vocabulary_jensen_shannon_divergence") > 0.1
    assert "DRIFT" in report.get_string_custom_property("summary")
    # The HTML report sits next to drift.json, naming both spans and the drifted measure.
    html = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    assert "lexflow drift report: span 3 vs. span 2" in html and "DRIFT" in html
    assert html.count("data:image/png;base64,") == 4


def test_executor_without_previous_span_reports_nothing_to_compare(tmp_path):
    _, payload = _run(tmp_path, generate_rows(50, seed=4), None)
    assert payload["baseline_span"] == -1 and payload["drifted"] is False and "no previous span" in payload["note"]
    html = (tmp_path / "report" / "drift.html").read_text(encoding="utf-8")
    assert "span 3 vs. no previous span" in html and "not measured" in html


def test_fail_on_drift_stops_the_run_naming_the_measure(tmp_path):
    with pytest.raises(DriftError, match=r"span 3 vs. span 2: DRIFT: .*vocabulary"):
        _run(tmp_path, generate_rows(120, seed=4, drift=1.0), generate_rows(300, seed=5), fail_on_drift=True)
