"""Executor of DataGate: read ExampleValidator's anomalies and fail the run on any."""

from __future__ import annotations

import json
import os
from typing import Any

from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.data_gate.spec import ANOMALIES_KEY, IGNORED_ANOMALY_TYPES_KEY

_ANOMALIES_FILE = "SchemaDiff.pb"


class DataValidationError(RuntimeError):
    """The data does not match the curated schema; the message names every anomaly."""


def describe_anomalies(split: str, anomalies: anomalies_pb2.Anomalies, ignored: set[str]) -> list[str]:
    problems = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = [r for r in info.reason if anomalies_pb2.AnomalyInfo.Type.Name(r.type) not in ignored]
        if reasons:
            detail = "; ".join(f"{r.short_description} ({r.description})" for r in reasons)
            problems.append(f"split '{split}', feature '{feature}': {detail}")
    dataset = anomalies.dataset_anomaly_info
    reasons = [r for r in dataset.reason if anomalies_pb2.AnomalyInfo.Type.Name(r.type) not in ignored]
    if reasons:
        detail = "; ".join(f"{r.short_description} ({r.description})" for r in reasons)
        problems.append(f"split '{split}', dataset: {detail}")
    return problems


def load_anomalies(artifact: types.Artifact) -> dict[str, anomalies_pb2.Anomalies]:
    result = {}
    for split in artifact_utils.decode_split_names(artifact.split_names):
        path = os.path.join(artifact_utils.get_split_uri([artifact], split), _ANOMALIES_FILE)
        anomalies = anomalies_pb2.Anomalies()
        anomalies.ParseFromString(io_utils.read_bytes_file(path))
        result[split] = anomalies
    return result


class Executor(base_executor.BaseExecutor):
    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        ignored = set(json.loads(exec_properties.get(IGNORED_ANOMALY_TYPES_KEY) or "[]"))
        problems = []
        for artifact in input_dict[ANOMALIES_KEY]:
            for split, anomalies in sorted(load_anomalies(artifact).items()):
                problems.extend(describe_anomalies(split, anomalies, ignored))
        if problems:
            raise DataValidationError(
                f"data gate: {len(problems)} schema anomal{'y' if len(problems) == 1 else 'ies'}, "
                "run stopped before Transform: " + " | ".join(problems)
            )
