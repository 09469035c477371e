"""ProductionBaseline: the Evaluator's baseline is the model in production, read from the model base dir."""

import json
from pathlib import Path

from tfx.types import standard_artifacts

from components.production_baseline import production as prod
from components.production_baseline.executor import Executor

LABELS = ["governing_law", "termination", "confidentiality"]


def test_production_is_the_routed_version_else_the_newest():
    assert prod.production_version([], None) is None
    assert prod.production_version([3, 7], None) == prod.Production(7, "newest pushed version")
    routed = json.dumps({"production": 3, "staging": 7})
    assert prod.production_version([3, 7], routed) == prod.Production(3, "routing: production")
    # A pin to a version no longer on disk, no pin, or a broken file: the newest.
    for routing in (json.dumps({"production": 5}), json.dumps({"production": None}), "{not json", "[]"):
        assert prod.production_version([3, 7], routing).version == 7


def test_label_change_is_described():
    assert prod.label_change(LABELS, list(reversed(LABELS))) == {}  # order is not a change
    change = prod.label_change([*LABELS, "escrow"], [*LABELS[1:], "warranties"])
    assert change == {"added": ["escrow", "governing_law"], "removed": ["warranties"]}
    assert prod.describe_change(change) == "+escrow, +governing_law; -warranties"


def _saved_model(directory: Path, labels: list[str], graph: bytes = b"graph") -> Path:
    (directory / "assets").mkdir(parents=True)
    (directory / "assets" / "label").write_text("\n".join(labels) + "\n")
    (directory / "saved_model.pb").write_bytes(graph)
    return directory


def _run(tmp_path: Path, base: Path, candidate_labels: list[str]):
    candidate = standard_artifacts.Model()
    candidate.uri = str(tmp_path / "candidate")
    _saved_model(tmp_path / "candidate" / "Format-Serving", candidate_labels)
    baseline = standard_artifacts.Model()
    baseline.uri = str(tmp_path / "baseline")
    Executor().Do({"model": [candidate]}, {"baseline_model": [baseline]}, {"model_dir": str(base)})
    return baseline


def test_nothing_in_production_means_no_baseline(tmp_path):
    baseline = _run(tmp_path, tmp_path / "serving" / "lexflow", LABELS)
    assert baseline.get_int_custom_property("found") == 0
    assert "absolute thresholds" in baseline.get_string_custom_property("note")


def test_the_production_model_is_copied_as_the_baseline(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    _saved_model(base / "100", LABELS, b"old")
    _saved_model(base / "200", LABELS, b"new")
    (base / "300").mkdir()  # a push still being written: no saved_model.pb yet
    baseline = _run(tmp_path, base, LABELS)
    assert baseline.get_int_custom_property("found") == 1
    assert baseline.get_int_custom_property("production_version") == 200
    assert (Path(baseline.uri) / "Format-Serving" / "saved_model.pb").read_bytes() == b"new"

    (base / "routing.json").write_text(json.dumps({"production": 100}))  # rolled back to 100
    routed = _run(tmp_path / "again", base, LABELS)
    assert routed.get_int_custom_property("production_version") == 100
    assert (Path(routed.uri) / "Format-Serving" / "saved_model.pb").read_bytes() == b"old"
    assert "routing: production" in routed.get_string_custom_property("note")


def test_a_production_model_with_another_label_set_is_reported_not_compared(tmp_path):
    base = tmp_path / "serving" / "lexflow"
    _saved_model(base / "100", LABELS)
    baseline = _run(tmp_path, base, [*LABELS, "escrow"])
    assert baseline.get_int_custom_property("found") == 0
    assert json.loads(baseline.get_string_custom_property("label_change")) == {"added": ["escrow"], "removed": []}
    assert "+escrow" in baseline.get_string_custom_property("note")
    assert not (Path(baseline.uri) / "Format-Serving").exists()
