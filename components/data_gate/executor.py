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


def _reason_text(reason: anomalies_pb2.AnomalyInfo.Reason) -> str:
    # TFDV's description usually repeats the short one ("New column (column in data but not in schema)").
    short, long = reason.short_description, reason.description
    if not long or long == short:
        return short
    return long if short and long.startswith(short) else f"{short}: {long}" if short else long


def describe_anomalies(anomalies: anomalies_pb2.Anomalies, ignored: set[str]) -> dict[str, str]:
    """Each anomalous feature (or 'dataset') of one split -> its reasons in words."""
    problems = {}
    infos = [(f"feature '{feature}'", info) for feature, info in sorted(anomalies.anomaly_info.items())]
    infos.append(("dataset", anomalies.dataset_anomaly_info))
    for where, info in infos:
        reasons = [r for r in info.reason if anomalies_pb2.AnomalyInfo.Type.Name(r.type) not in ignored]
        if reasons:
            problems[where] = "; ".join(dict.fromkeys(_reason_text(r) for r in reasons))
    return problems


def summarize_problems(by_split: dict[str, dict[str, str]]) -> list[str]:
    """One entry per problem, naming the splits it was found in (the same anomaly in train and eval
    is one problem, said once)."""
    splits_of: dict[tuple[str, str], list[str]] = {}
    for split, problems in sorted(by_split.items()):
        for where, text in problems.items():
            splits_of.setdefault((where, text), []).append(split)
    return [f"{where} in split {' and '.join(map(repr, found))}: {text}" for (where, text), found in splits_of.items()]


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
        by_split: dict[str, dict[str, str]] = {}
        for artifact in input_dict[ANOMALIES_KEY]:
            for split, anomalies in sorted(load_anomalies(artifact).items()):
                by_split.setdefault(split, {}).update(describe_anomalies(anomalies, ignored))
        problems = summarize_problems(by_split)
        if problems:
            # The run names this component ("DataGate failed: ..."); the message says what and what to do.
            raise DataValidationError(
                f"{len(problems)} schema anomal{'y' if len(problems) == 1 else 'ies'}, run stopped before "
                "Transform: " + " | ".join(problems) + " (fix the data, or the schema the run imports)"
            )
