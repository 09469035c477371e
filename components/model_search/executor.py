"""Executor of ModelSearch: TFX's Tuner executor, plus the search report on the best_hyperparameters artifact.

The search trains on the train split and scores the validation split (the component's train_args and
eval_args splits); `best_hyperparameters` holds what the Trainer refits on train + validation, and the
temperature fitted on the chosen trial (trainer/tuning.py `final_hyperparameters`).

Custom properties of `best_hyperparameters` (what `lexflow/reports/run_summary.py` reads back):
`search_summary` (one line), `chosen_model`, `validation_accuracy`, `validation_macro_f1`,
`validation_rows`, `temperature`, `search_trials`, `search_seconds`, `search_budget_seconds`, and the
whole report (every trial's settings, validation scores and seconds, the settings skipped for the
budget, the refit's settings) as JSON in `search_report`. The report is also `model_search.json` in
the `tuner_results` folder (the Trainer wants `best_hyperparameters` to hold exactly one file).
"""

from __future__ import annotations

import json
import os
from typing import Any

from tfx import types
from tfx.components.tuner import executor as tuner_executor
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils

REPORT_FILE = "model_search.json"
REPORT_PROPERTY = "search_report"
# TFX's name for it; the Trainer reads the one file in the folder.
BEST_HYPERPARAMETERS_FILE = "best_hyperparameters.txt"


class Executor(tuner_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        tuner = tuner_executor.search(input_dict, exec_properties, self._get_tmp_dir())
        report = tuner.report() if hasattr(tuner, "report") else None
        if report is not None and report["chosen"] is None:
            failures = [t.message.strip().splitlines()[-1] for t in tuner.oracle.trials.values() if t.message]
            last = f"; last error: {failures[-1]}" if failures else ""
            raise RuntimeError(f"model search: no trial completed{last}")
        tuner_executor.write_best_hyperparameters(tuner, output_dict)
        if hasattr(tuner, "final_hyperparameters"):  # the refit's settings and the temperature, for the Trainer
            best = artifact_utils.get_single_uri(output_dict[standard_component_specs.BEST_HYPERPARAMETERS_KEY])
            io_utils.write_string_file(
                os.path.join(best, BEST_HYPERPARAMETERS_FILE), json.dumps(tuner.final_hyperparameters().get_config())
            )
        if report is not None:
            results = artifact_utils.get_single_uri(output_dict[standard_component_specs.TUNER_RESULTS_KEY])
            io_utils.write_string_file(os.path.join(results, REPORT_FILE), json.dumps(report, indent=2))
            record(
                artifact_utils.get_single_instance(output_dict[standard_component_specs.BEST_HYPERPARAMETERS_KEY]),
                report,
            )


def record(artifact: types.Artifact, report: dict[str, Any]) -> None:
    chosen = report["chosen"] or {}
    artifact.set_string_custom_property("search_summary", report["summary"])
    artifact.set_string_custom_property("chosen_model", chosen.get("model", ""))
    calibration = report.get("calibration") or {}
    for name in ("validation_accuracy", "validation_macro_f1"):
        artifact.set_float_custom_property(name, float(chosen.get(name, 0.0)))
    artifact.set_int_custom_property("validation_rows", int(report.get("validation_rows", 0)))
    artifact.set_float_custom_property("temperature", float(calibration.get("temperature") or 1.0))
    artifact.set_int_custom_property("search_trials", len(report["trials"]))
    artifact.set_float_custom_property("search_seconds", float(report["seconds"]))
    artifact.set_float_custom_property("search_budget_seconds", float(report["budget_seconds"]))
    artifact.set_string_custom_property(REPORT_PROPERTY, json.dumps(report, sort_keys=True))
