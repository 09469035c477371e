"""Executor of ModelEvaluator (see the package docstring for why it exists)."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.evaluator import executor as evaluator_executor
from tfx.types import artifact_utils, standard_component_specs

from components.artifacts import copy_custom_property, int_custom_value

BASELINE = standard_component_specs.BASELINE_MODEL_KEY
# Copied from the baseline onto the blessing: what the run summary and the Pusher read.
CARRIED = ("note", "label_change", "production_version")


class Executor(evaluator_executor.Executor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        baselines = input_dict.get(BASELINE) or []
        inputs = dict(input_dict)
        if baselines and not int_custom_value(baselines[0], "found"):
            inputs[BASELINE] = []  # TFX's Evaluator then drops the change thresholds
        super().Do(inputs, output_dict, exec_properties)
        if baselines:
            blessing = artifact_utils.get_single_instance(output_dict[standard_component_specs.BLESSING_KEY])
            for name in CARRIED:
                copy_custom_property(baselines[0], blessing, name)
