"""ModelEvaluator: TFX's Evaluator, taking its baseline from ProductionBaseline.

ProductionBaseline always outputs a Model artifact (a static graph has no optional outputs);
when it found no comparable model in production (`found` = 0), this Evaluator runs as TFX's does
without a baseline: absolute thresholds only. Its blessing carries the baseline's note and any
label-set change, which the run summary shows and the Pusher acts on.
"""

from components.model_evaluator.component import ModelEvaluator

__all__ = ["ModelEvaluator"]
