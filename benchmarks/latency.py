"""Serving latency of a pushed SavedModel, called in-process through `serving_default` (raw text in).

What TF Serving's model server would spend per request, without HTTP: one text per call
(`single`) and batches of 32 texts (`batch_32`), each after a warm-up, over texts of the test
split in a fixed order. The machine is shared, so the load average is recorded beside the
numbers; compare two models only within one run or at similar load.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401  (TF_USE_LEGACY_KERAS before anything loads TensorFlow)

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BATCH = 32
WARMUP_CALLS = 3


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in [0, 1]) of a non-empty sample."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _timings(call: Callable[[Sequence[str]], Any], inputs: Sequence[Sequence[str]]) -> list[float]:
    seconds = []
    for texts in inputs:
        start = time.perf_counter()
        call(texts)
        seconds.append(time.perf_counter() - start)
    return seconds


def _summary(seconds: list[float], texts_per_call: int) -> dict[str, Any]:
    total = sum(seconds)
    return {
        "calls": len(seconds),
        "texts_per_call": texts_per_call,
        "p50_ms": 1000 * percentile(seconds, 0.50),
        "p95_ms": 1000 * percentile(seconds, 0.95),
        "p99_ms": 1000 * percentile(seconds, 0.99),
        "mean_ms": 1000 * total / len(seconds),
        "texts_per_second": texts_per_call * len(seconds) / total,
    }


def serving_latency(
    model_dir: str | Path, texts: Sequence[str], single_calls: int = 200, batch_calls: int = 20
) -> dict[str, Any]:
    """p50/p95/p99 latency of `serving_default` for one text and for a batch of 32 (texts reused in order)."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the TF Text ops of the Transform graph)

    if not texts:
        raise ValueError("no texts to time")
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]

    def call(batch: Sequence[str]) -> None:
        serve(text=tf.constant(list(batch), dtype=tf.string))["label"].numpy()

    singles = [[texts[i % len(texts)]] for i in range(single_calls)]
    batches = [[texts[(i * BATCH + j) % len(texts)] for j in range(BATCH)] for i in range(batch_calls)]
    _timings(call, singles[:WARMUP_CALLS] + batches[:WARMUP_CALLS])
    load_before = os.getloadavg()[0]
    result = {
        "single": _summary(_timings(call, singles), 1),
        "batch_32": _summary(_timings(call, batches), BATCH),
        "device": "CPU",
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        result["device"] = ", ".join(gpu.name for gpu in gpus)
    return result
