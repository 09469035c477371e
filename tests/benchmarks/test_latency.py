"""Serving-latency measurement of the quality benchmark, on a trivial SavedModel with the serving contract."""

import pytest
import tensorflow as tf

from benchmarks import quality
from benchmarks.latency import percentile, serving_latency


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.99) == 99.0 and percentile(values, 1.0) == 100.0
    assert percentile(values, 0.95) == 95.0 and percentile([3.0], 0.99) == 3.0


def test_serving_latency_times_single_texts_and_batches_of_32(tmp_path):
    class Echo(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
        def serve(self, text):
            return {"label": text}

    module = Echo()
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.serve})
    result = serving_latency(tmp_path, ["a", "b", "c"], single_calls=10, batch_calls=4)
    single, batch = result["single"], result["batch_32"]
    assert (single["calls"], single["texts_per_call"], batch["calls"], batch["texts_per_call"]) == (10, 1, 4, 32)
    assert 0 < single["p50_ms"] <= single["p95_ms"] <= single["p99_ms"]
    assert 0 < batch["p50_ms"] <= batch["p95_ms"] <= batch["p99_ms"]
    assert result["device"] == "CPU" and len(result["load_average_1min"]) == 2
    with pytest.raises(ValueError, match="no texts"):
        serving_latency(tmp_path, [])


def test_encoder_records_are_kept_beside_the_dataset_and_show_their_latency(tmp_path):
    latency = {
        "single": {"p50_ms": 12.0, "p95_ms": 20.0, "p99_ms": 30.0},
        "batch_32": {"p50_ms": 900.0, "p95_ms": 1200.0, "p99_ms": 1500.0, "texts_per_second": 35.0},
        "device": "CPU",
        "load_average_1min": [4.0, 4.2],
    }
    metrics = quality.classification_metrics(["a", "b"], ["a", "b"])
    base = {"dataset": "toy", "train_rows": 2, "test_rows": 2, "classes": 2, "baseline": None}
    tfidf = {**base, "pipeline": {"train_split_rows": 2}, "model": {"metrics": metrics}}
    encoder = {
        **base,
        "variant": "encoder",
        "pipeline": {"train_split_rows": 2},
        "model": {"metrics": metrics, "latency": latency},
    }
    results = quality.write_results(tmp_path, [tfidf, encoder], merge=False)
    assert set(results["datasets"]) == {"toy", "toy+encoder"}
    markdown = (tmp_path / quality.RESULTS_MD).read_text()
    assert "| toy+encoder | lexflow pipeline (pushed), encoder |" in markdown
    assert "1 text p50 12.0 ms, p95 20.0 ms, p99 30.0 ms; 32 texts p50 900 ms, p95 1200 ms, p99 1500 ms (35" in markdown
