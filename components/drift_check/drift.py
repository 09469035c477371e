"""Drift between two samples of raw examples, measured with TFDV's drift comparators.

A new span (or the feedback waiting to be exported) is compared with the span before it on
what a text classifier is sensitive to:
- `label`: L-infinity distance between the label distributions (TFDV `infinity_norm`);
- `text_length`: Jensen-Shannon divergence of token counts (TFDV `jensen_shannon_divergence`);
- `vocabulary`: Jensen-Shannon divergence of the token distributions;
- `oov_rate`: share of the new tokens never seen in the previous sample (TFDV has no comparator
  for it; it is what hurts a vocabulary-based model most).

Tokens here are lower-cased `\\w+` runs: a data check that needs no TensorFlow graph, close
enough to the model's tokenizer for distribution shifts to show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Optional

_TOKEN = re.compile(r"\w+")
# TFDV measures vocabulary drift over the most frequent values; beyond this the tail is noise.
_MAX_TOKENS_PER_TEXT = 400


@dataclass(frozen=True)
class Sample:
    """Raw examples of one span (or of pending feedback)."""

    texts: Sequence[str]
    labels: Sequence[str]

    @classmethod
    def from_rows(cls, rows: Iterable[dict]) -> Sample:
        rows = list(rows)
        return cls([r["text"] for r in rows], [r["label"] for r in rows])

    def tokens(self) -> list[str]:
        return [t for text in self.texts for t in _TOKEN.findall(text.lower())[:_MAX_TOKENS_PER_TEXT]]

    def lengths(self) -> list[int]:
        return [len(_TOKEN.findall(text)) for text in self.texts]


@dataclass(frozen=True)
class Measure:
    feature: str
    metric: str  # L_INFTY, JENSEN_SHANNON_DIVERGENCE or OOV_RATE
    value: float
    threshold: float

    @property
    def drifted(self) -> bool:
        return self.value > self.threshold


@dataclass
class DriftResult:
    current_rows: int
    baseline_rows: int
    measures: list[Measure] = field(default_factory=list)
    note: Optional[str] = None  # why nothing was measured (no baseline)

    @property
    def drifted(self) -> bool:
        return any(m.drifted for m in self.measures)

    def drifted_measures(self) -> list[Measure]:
        return [m for m in self.measures if m.drifted]

    def describe(self) -> str:
        if self.note:
            return self.note
        parts = [
            f"{m.feature} {m.metric.lower()} {m.value:.3f}{' > ' if m.drifted else ' <= '}{m.threshold:g}"
            for m in self.measures
        ]
        return ("DRIFT: " if self.drifted else "no drift: ") + ", ".join(parts)

    def to_dict(self) -> dict:
        return {
            "drifted": self.drifted,
            "current_rows": self.current_rows,
            "baseline_rows": self.baseline_rows,
            "note": self.note,
            "measures": [{**asdict(m), "drifted": m.drifted} for m in self.measures],
        }


@dataclass(frozen=True)
class Thresholds:
    """Above any of these, the sample has drifted (values come from PipelineConfig.drift)."""

    label_linf: float
    length_jsd: float
    vocabulary_jsd: float
    oov_rate: float


def measure_drift(current: Sample, baseline: Sample, thresholds: Thresholds) -> DriftResult:
    result = DriftResult(current_rows=len(current.texts), baseline_rows=len(baseline.texts))
    if not current.texts or not baseline.texts:
        result.note = "no drift measured: " + ("the new sample is empty" if not current.texts else "no previous span")
        return result
    comparisons: dict[str, tuple[list, list, str, float]] = {
        "label": (
            [str(x) for x in current.labels],
            [str(x) for x in baseline.labels],
            "infinity_norm",
            thresholds.label_linf,
        ),
        "text_length": (current.lengths(), baseline.lengths(), "jensen_shannon_divergence", thresholds.length_jsd),
        "vocabulary": (current.tokens(), baseline.tokens(), "jensen_shannon_divergence", thresholds.vocabulary_jsd),
    }
    for feature, (cur, base, comparator, threshold) in comparisons.items():
        result.measures.append(_tfdv_drift(feature, cur, base, comparator, threshold))
    seen = set(baseline.tokens())
    new_tokens = current.tokens()
    oov = sum(1 for t in new_tokens if t not in seen) / max(1, len(new_tokens))
    result.measures.append(Measure("vocabulary", "OOV_RATE", oov, thresholds.oov_rate))
    return result


def _tfdv_drift(feature: str, current: list, baseline: list, comparator: str, threshold: float) -> Measure:
    # One feature per call: TFDV computes statistics in-process from a DataFrame (no Beam job),
    # and a single-column frame keeps per-token rows cheap.
    import pandas as pd
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    base_stats = tfdv.generate_statistics_from_dataframe(pd.DataFrame({feature: baseline}))
    current_stats = tfdv.generate_statistics_from_dataframe(pd.DataFrame({feature: current}))
    schema = tfdv.infer_schema(base_stats)
    getattr(tfdv.get_feature(schema, feature).drift_comparator, comparator).threshold = threshold
    anomalies = tfdv.validate_statistics(current_stats, schema, previous_statistics=base_stats)
    for info in anomalies.drift_skew_info:
        for measurement in info.drift_measurements:
            name = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(measurement.type)
            return Measure(feature, name, float(measurement.value), threshold)
    raise RuntimeError(f"TFDV reported no drift measurement for '{feature}'")
