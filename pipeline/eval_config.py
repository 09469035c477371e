"""TFMA EvalConfig: what the Evaluator measures and what it takes to bless a model.

Labels are strings in the data; TFMA evaluates through the model's `transform_features`
signature, which yields the integer `label_id`, and scores the `tfma_eval` signature's two
outputs: `scores` (for accuracy, the confusion matrix and macro-F1 of the argmax decision,
`pipeline/metrics.py`) and `predicted` (one-hot argmax, for per-class F1/precision/recall of
the decision the model actually makes).

Blessing needs (a) absolute accuracy and macro-F1 thresholds and (b) when a baseline (the
model in production, components/production_baseline) exists, no drop beyond a tolerance on
either. Thresholds apply to the overall slice and the macro aggregate only: a weak slice or a
rare class with F1 0.3 must be visible in the report, not silently veto every model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tensorflow_model_analysis as tfma

from pipeline.config import EvalThresholds
from pipeline.metrics import MACRO_F1_NAME, MacroF1
from trainer import features as F

ACCURACY = "sparse_categorical_accuracy"
PER_CLASS_F1 = "f1_score"
CANDIDATE = "candidate"
BASELINE = "baseline"


def MACRO_F1_KEY_MATCH(key: Any) -> bool:
    """Is this MetricKey proto the macro-averaged F1 (the aggregate, not a class)?

    Evaluations written before `pipeline/metrics.py` existed carry TFMA's macro-averaged
    `f1_score` instead; reports still read them.
    """
    return key.name == MACRO_F1_NAME or (key.name == PER_CLASS_F1 and key.aggregation_type.macro_average)


def _overall_only(lower_bound: float, max_drop: float) -> list[tfma.PerSliceMetricThreshold]:
    threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": lower_bound}),
        # The Evaluator drops change thresholds when there is no baseline (the very first run).
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={"value": -max_drop}
        ),
    )
    # A plain `threshold` would be checked on every slice, length buckets included.
    return [tfma.PerSliceMetricThreshold(slicing_specs=[tfma.SlicingSpec()], threshold=threshold)]


def build_eval_config(num_classes: int, thresholds: EvalThresholds, slice_features: Iterable[str]) -> tfma.EvalConfig:
    class_ids = list(range(num_classes))
    model_spec = {
        "signature_name": F.TFMA_EVAL,
        "preprocessing_function_names": [F.TRANSFORM_FEATURES],
        "label_keys": {F.OUT_SCORES: F.LABEL_ID, F.OUT_PREDICTED: F.LABEL_ID},
    }
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(name=CANDIDATE, **model_spec),
            tfma.ModelSpec(name=BASELINE, is_baseline=True, **model_spec),
        ],
        metrics_specs=[
            tfma.MetricsSpec(
                output_names=[F.OUT_SCORES],
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        per_slice_thresholds=_overall_only(thresholds.min_accuracy, thresholds.max_accuracy_drop),
                    ),
                    tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                    # Not TFMA's macro-averaged F1Score: one class absent from a small eval
                    # split makes that NaN and refuses every model (pipeline/metrics.py).
                    tfma.MetricConfig(
                        class_name=MacroF1.__name__,
                        module=MacroF1.__module__,
                        per_slice_thresholds=_overall_only(thresholds.min_macro_f1, thresholds.max_macro_f1_drop),
                    ),
                ],
            ),
            # Per-class F1 / precision / recall for reports; no thresholds.
            tfma.MetricsSpec(
                output_names=[F.OUT_PREDICTED],
                metrics=[
                    tfma.MetricConfig(class_name="F1Score"),
                    tfma.MetricConfig(class_name="Precision"),
                    tfma.MetricConfig(class_name="Recall"),
                ],
                binarize=tfma.BinarizationOptions(class_ids={"values": class_ids}),
            ),
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            # A transformed feature, so every dataset has it.
            tfma.SlicingSpec(feature_keys=[F.LENGTH_BUCKET]),
            *[tfma.SlicingSpec(feature_keys=[name]) for name in slice_features],
        ],
    )
