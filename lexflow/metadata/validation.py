"""A run's validation scores beside its eval scores: where MLMD keeps them.

The model search and the temperature are chosen on the validation split; the Evaluator judges the
final model on the eval split. Both numbers are recorded:
- the Trainer's `model_run` artifact holds `calibration.json` (trainer/calibration.py): the
  temperature and the validation accuracy / macro-F1 of the model it was fitted on (the search's
  chosen trial, or the Trainer's first fit when the search is off), with or without a search;
- with a search, `best_hyperparameters` also carries them as custom properties (components/model_search);
- ExampleGen's `examples` carry the rows per label and split (`label_counts`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from lexflow.metadata import store as md
from trainer.calibration import RECORD_FILE


@dataclass(frozen=True)
class ValidationScores:
    rows: int
    accuracy: Optional[float]
    macro_f1: Optional[float]
    temperature: float
    fitted_on: str  # which model was scored: the search's chosen trial or the Trainer's first fit
    head_temperatures: tuple[float, ...] = ()  # an ensemble's, one per head (then `temperature` is 1)

    def record(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "temperature": self.temperature,
            "head_temperatures": list(self.head_temperatures),
            "fitted_on": self.fitted_on,
        }

    def scaling(self) -> str:
        """How the served scores were calibrated, for the run summary."""
        if self.head_temperatures:
            return "head temperatures " + ", ".join(f"{t:.3g}" for t in self.head_temperatures)
        return f"temperature {self.temperature:.3g}"


def validation_scores(store: Any, trainer_execution_id: int) -> Optional[ValidationScores]:
    """What the Trainer recorded about its validation split (None for runs before it did)."""
    for run in md.output_artifacts(store, trainer_execution_id, "model_run"):
        path = Path(run.uri) / RECORD_FILE
        if not path.is_file():
            continue
        record = json.loads(path.read_text(encoding="utf-8"))
        return ValidationScores(
            rows=int(record.get("rows") or 0),
            accuracy=record.get("accuracy"),
            macro_f1=record.get("macro_f1"),
            temperature=float(record.get("temperature") or 1.0),
            fitted_on=str(record.get("fitted_on") or ""),
            head_temperatures=tuple(float(t) for t in record.get("head_temperatures") or ()),
        )
    return None


def rows_per_split(examples: Any) -> dict[str, int]:
    """split -> rows, from ExampleGen's `label_counts` ({label: {split: rows}})."""
    counts = json.loads(str(md.custom_property(examples, "label_counts") or "{}"))
    totals: dict[str, int] = {}
    for by_split in counts.values():
        for split, rows in by_split.items():
            totals[split] = totals.get(split, 0) + int(rows)
    return totals
