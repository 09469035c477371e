"""Executor of ProductionBaseline: find the production version, compare label sets, copy it."""

from __future__ import annotations

import json
from typing import Any

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import io_utils, path_utils

from components import gfile
from components.production_baseline import production as prod
from components.production_baseline.spec import BASELINE_KEY, MODEL_DIR_KEY, MODEL_KEY
from core import model_dir
from trainer import features as F


def _complete_versions(base: str) -> list[int]:
    if not fileio.exists(base):
        return []
    found = model_dir.versions(gfile.listdir(base))
    return [v for v in found if fileio.exists(model_dir.saved_model_path(f"{base}/{v}"))]


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        base = str(exec_properties[MODEL_DIR_KEY]).rstrip("/")
        candidate = artifact_utils.get_single_instance(input_dict[MODEL_KEY])
        baseline = artifact_utils.get_single_instance(output_dict[BASELINE_KEY])
        routing_path = f"{base}/{prod.ROUTING_FILE}"
        routing = gfile.read_text(routing_path) if fileio.exists(routing_path) else None
        chosen = prod.production_version(_complete_versions(base), routing)
        if chosen is None:
            _no_baseline(baseline, "no version in production yet: the model is judged on absolute thresholds")
            return
        served = f"{base}/{chosen.version}"
        candidate_dir = path_utils.serving_model_path(candidate.uri)
        change = prod.label_change(
            prod.read_labels(gfile.read_text, candidate_dir, F.LABEL_VOCAB),
            prod.read_labels(gfile.read_text, served, F.LABEL_VOCAB),
        )
        baseline.set_int_custom_property("production_version", chosen.version)
        if change:
            note = (
                f"version {chosen.version} in production has another label set ({prod.describe_change(change)}): "
                "not compared; judged on absolute thresholds"
            )
            baseline.set_string_custom_property("label_change", json.dumps(change, sort_keys=True))
            _no_baseline(baseline, note)
            return
        io_utils.copy_dir(served, path_utils.serving_model_dir(baseline.uri))
        baseline.set_int_custom_property("found", 1)
        baseline.set_string_custom_property("note", f"baseline: version {chosen.version} ({chosen.how})")
        logging.info("Baseline: version %d at %s (%s).", chosen.version, served, chosen.how)


def _no_baseline(baseline: types.Artifact, note: str) -> None:
    baseline.set_int_custom_property("found", 0)
    baseline.set_string_custom_property("note", note)
    logging.info("No baseline: %s", note)
