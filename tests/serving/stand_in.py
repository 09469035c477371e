"""A complete ModelBackend without TensorFlow, so the gateway's routes are tested in the fast suite.

A keyword rule per label stands in for the model; each version is one "model" and versions can
be pushed and removed while the gateway runs, as the in-process backend's poller would. Scoring
goes through the real MicroBatcher (async callers) or a worker thread (`threaded=True`, like the
TF Serving backends). The same routes run against a real pushed model in tests/e2e/.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from typing import Any, Optional

import anyio.to_thread

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion
from serving.backends.batching import MicroBatcher

KEYWORDS = {
    "governing_law": ("governed", "laws"),
    "termination": ("terminate", "termination"),
    "confidentiality": ("confidential",),
    "payment_terms": ("payable", "fees", "invoice"),
}
LABELS = sorted(KEYWORDS)
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."
TERMINATION = "Either party may terminate this Agreement upon thirty (30) days prior written notice."


def score(text: str) -> list[float]:
    """Softmax-like scores: 0.7 for the first label whose keyword occurs (else the first label), the rest shared."""
    lowered = text.lower()
    top = next((label for label in LABELS if any(k in lowered for k in KEYWORDS[label])), LABELS[0])
    rest = 0.3 / (len(LABELS) - 1)
    return [0.7 if label == top else rest for label in LABELS]


class StandInBackend(ModelBackend):
    def __init__(
        self,
        versions: Sequence[int] = (7,),
        model_name: str = "lexflow",
        threaded: bool = False,
        extra_labels: Sequence[str] = (),
    ):
        """`extra_labels`: more classes, after the keyword ones, that never win (score 0)."""
        self.model_name = model_name
        self.threaded = threaded
        self.extra_labels = list(extra_labels)
        self.calls = 0  # predict calls, for tests that count the work done
        self.started = self.closed = False
        self.retained: set[int] = set()
        self._lock = threading.Lock()
        self._batchers: dict[int, MicroBatcher] = {}
        for version in versions:
            self.push(version)

    # -- what a push or a removal on disk would do ------------------------------------------
    def push(self, version: int) -> None:
        batcher = MicroBatcher(functools.partial(self._score, version, self.extra_labels), name=f"stand-in-v{version}")
        with self._lock:
            self._batchers[version] = batcher

    def remove(self, version: int) -> None:
        with self._lock:
            batcher = self._batchers.pop(version)
        batcher.close()

    # -- ModelBackend ------------------------------------------------------------------------
    def start(self) -> None:
        self.started = True

    def close(self) -> None:
        self.closed = True

    def versions(self) -> list[int]:
        with self._lock:
            return sorted(self._batchers)

    def classes(self, version: Optional[int] = None) -> list[str]:
        self._batcher(version)
        return list(LABELS) + self.extra_labels

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        self.calls += 1
        return self._batcher(version).predict(texts)

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        self.calls += 1
        batcher = self._batcher(version)
        if self.threaded:
            return await anyio.to_thread.run_sync(functools.partial(batcher.predict, list(texts)))
        return await batcher.predict_async(texts)

    def retain(self, versions: set[int]) -> None:
        self.retained = set(versions)

    def signature_defs(self, version: int) -> dict[str, Any]:
        self._batcher(version)
        return signature_defs(len(LABELS) + len(self.extra_labels))

    def _batcher(self, version: Optional[int]) -> MicroBatcher:
        with self._lock:
            batchers = dict(self._batchers)
        if not batchers:
            raise BackendError(f"no loadable version of model '{self.model_name}'")
        if version is None:
            return batchers[max(batchers)]
        if version not in batchers:
            raise UnknownVersion(f"model '{self.model_name}' has no version {version} (serving: {sorted(batchers)})")
        return batchers[version]

    @staticmethod
    def _score(version: int, extra: list[str], texts: list[str]) -> Prediction:
        scores = [score(t) + [0.0] * len(extra) for t in texts]
        labels = [LABELS[row.index(max(row))] for row in scores]
        return Prediction(version=version, classes=list(LABELS) + extra, scores=scores, labels=labels)


def _tensor(name: str, dtype: str, *dims: int) -> dict[str, Any]:
    return {
        "name": name,
        "dtype": dtype,
        "tensor_shape": {"dim": [{"size": str(d), "name": ""} for d in dims], "unknown_rank": False},
    }


def signature_defs(classes: int) -> dict[str, Any]:
    """What the real SavedModel's signatures look like in TF Serving's metadata JSON (a subset of them)."""
    outputs = {
        "scores": _tensor("StatefulPartitionedCall:2", "DT_FLOAT", -1, classes),
        "classes": _tensor("StatefulPartitionedCall:0", "DT_STRING", -1, classes),
        "label": _tensor("StatefulPartitionedCall:1", "DT_STRING", -1),
    }
    predict = "tensorflow/serving/predict"
    return {
        "signature_def": {
            "serving_default": {
                "inputs": {"text": _tensor("serving_default_text:0", "DT_STRING", -1)},
                "outputs": outputs,
                "method_name": predict,
                "defaults": {},
            },
            "serving_tf_example": {
                "inputs": {"examples": _tensor("serving_tf_example_examples:0", "DT_STRING", -1)},
                "outputs": outputs,
                "method_name": predict,
                "defaults": {},
            },
            "__saved_model_init_op": {
                "inputs": {},
                "outputs": {
                    "__saved_model_init_op": {
                        "name": "NoOp",
                        "dtype": "DT_INVALID",
                        "tensor_shape": {"dim": [], "unknown_rank": True},
                    }
                },
                "method_name": "",
                "defaults": {},
            },
        }
    }
