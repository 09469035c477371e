"""ModelSearch: TFX's Tuner that also records what the search chose, and why, in MLMD.

The search itself is `trainer.tuning.tuner_fn` (KerasTuner, time-budgeted); this component only
swaps the executor, so the spec, the outputs (`best_hyperparameters`, `tuner_results`) and how a
Trainer consumes them stay TFX's own.
"""

from components.model_search.component import ModelSearch
from components.model_search.executor import REPORT_FILE, REPORT_PROPERTY

__all__ = ["REPORT_FILE", "REPORT_PROPERTY", "ModelSearch"]
