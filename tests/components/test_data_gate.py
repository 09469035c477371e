"""DataGate executor against anomalies protos as ExampleValidator writes them."""

import json
import os

import pytest
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import artifact_utils, standard_artifacts

from components.data_gate.executor import DataValidationError, Executor


def _anomalies_artifact(tmp_path, per_split):
    artifact = standard_artifacts.ExampleAnomalies()
    artifact.uri = str(tmp_path)
    artifact.split_names = artifact_utils.encode_split_names(list(per_split))
    for split, anomalies in per_split.items():
        os.makedirs(tmp_path / f"Split-{split}", exist_ok=True)
        (tmp_path / f"Split-{split}" / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    return artifact


def _anomaly(feature, kind, short, description):
    anomalies = anomalies_pb2.Anomalies()
    info = anomalies.anomaly_info[feature]
    info.reason.add(type=anomalies_pb2.AnomalyInfo.Type.Value(kind), short_description=short, description=description)
    return anomalies


def _run(artifact, ignored=None):
    Executor().Do({"anomalies": [artifact]}, {}, {"ignored_anomaly_types": json.dumps(ignored or [])})


def test_clean_anomalies_pass(tmp_path):
    _run(_anomalies_artifact(tmp_path, {"train": anomalies_pb2.Anomalies(), "eval": anomalies_pb2.Anomalies()}))


def test_anomaly_stops_the_run_and_names_split_feature_and_reason(tmp_path):
    artifact = _anomalies_artifact(
        tmp_path,
        {
            "train": _anomaly(
                "label",
                "ENUM_TYPE_UNEXPECTED_STRING_VALUES",
                "Unexpected string values",
                "Examples contain values missing from the schema: bogus (~1%).",
            ),
            "eval": anomalies_pb2.Anomalies(),
        },
    )
    with pytest.raises(DataValidationError) as raised:
        _run(artifact)
    message = str(raised.value)
    assert "split 'train'" in message and "feature 'label'" in message and "bogus" in message
    assert "before Transform" in message


def test_ignored_anomaly_types_are_tolerated(tmp_path):
    artifact = _anomalies_artifact(tmp_path, {"train": _anomaly("extra", "SCHEMA_NEW_COLUMN", "New column", "x")})
    _run(artifact, ignored=["SCHEMA_NEW_COLUMN"])
    with pytest.raises(DataValidationError, match="New column"):
        _run(artifact)


def test_one_problem_in_both_splits_is_said_once_without_repeating_itself(tmp_path):
    """TFDV's description repeats its short description; train and eval report the same new column."""
    new_column = ("source", "SCHEMA_NEW_COLUMN", "New column", "New column (column in data but not in schema)")
    artifact = _anomalies_artifact(tmp_path, {"train": _anomaly(*new_column), "eval": _anomaly(*new_column)})
    with pytest.raises(DataValidationError) as raised:
        _run(artifact)
    message = str(raised.value)
    assert message.startswith("1 schema anomaly, run stopped before Transform: ")
    assert "feature 'source' in split 'eval' and 'train': New column (column in data but not in schema)" in message
    assert message.count("New column") == 1
