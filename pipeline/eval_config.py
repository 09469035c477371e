"""TFMA EvalConfig: what the Evaluator measures and what it takes to bless a model.

Labels are strings in the data; TFMA evaluates through the model's `transform_features`
signature, which yields the integer `label_id`, and scores the `tfma_eval` signature's `scores`
output. Accuracy, macro-F1 and per-class F1/precision/recall are all derived from ONE
multi-class confusion matrix of the argmax decision (`pipeline/metrics.py`): the decision the
served model answers, counted once per model and slice, whatever the number of classes.

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
from pipeline.metrics import ACCURACY_NAME, F1_NAME, MACRO_F1_NAME, ArgmaxAccuracy, MacroF1, PerClassMetrics
from trainer import features as F

ACCURACY = ACCURACY_NAME
PER_CLASS_F1 = F1_NAME
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


def _metric(cls: type, **kwargs: Any) -> tfma.MetricConfig:
    return tfma.MetricConfig(class_name=cls.__name__, module=cls.__module__, **kwargs)


def build_eval_config(num_classes: int, thresholds: EvalThresholds, slice_features: Iterable[str]) -> tfma.EvalConfig:
    # num_classes is kept for callers: the per-class metrics cover the classes each slice has.
    del num_classes
    model_spec = {
        "signature_name": F.TFMA_EVAL,
        "preprocessing_function_names": [F.TRANSFORM_FEATURES],
        "label_keys": {F.OUT_SCORES: F.LABEL_ID},
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
                    _metric(
                        ArgmaxAccuracy,
                        per_slice_thresholds=_overall_only(thresholds.min_accuracy, thresholds.max_accuracy_drop),
                    ),
                    tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                    # Not TFMA's macro-averaged F1Score: one class absent from a small eval
                    # split makes that NaN and refuses every model (pipeline/metrics.py).
                    _metric(
                        MacroF1,
                        per_slice_thresholds=_overall_only(thresholds.min_macro_f1, thresholds.max_macro_f1_drop),
                    ),
                    # Per-class F1 / precision / recall for reports; no thresholds.
                    _metric(PerClassMetrics),
                ],
            ),
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            # A transformed feature, so every dataset has it.
            tfma.SlicingSpec(feature_keys=[F.LENGTH_BUCKET]),
            *[tfma.SlicingSpec(feature_keys=[name]) for name in slice_features],
        ],
    )
