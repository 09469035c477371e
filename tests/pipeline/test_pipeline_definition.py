"""create_pipeline wiring (no execution): order, gate, baseline, cache key."""

import json
import shutil
from pathlib import Path

import pytest

from pipeline import code_version as cv
from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    root = tmp_path_factory.mktemp("def")
    config = PipelineConfig(
        pipeline_root=root / "p", serving_dir=root / "s", schema_path=REPO / "schema" / "demo" / "schema.pbtxt"
    )
    return create_pipeline(config)


def _by_id(pipeline):
    return {c.id: c for c in pipeline.components}


def test_all_components_in_dependency_order(pipeline):
    ids = [c.id for c in pipeline.components]
    for expected in (
        "CsvExampleGen",
        "StatisticsGen",
        "ImportSchemaGen",
        "ExampleValidator",
        "DataGate",
        "Transform",
        "Trainer",
        "latest_blessed_model_resolver",
        "Evaluator",
        "Pusher",
    ):
        assert expected in ids
    nodes = _by_id(pipeline)
    assert nodes["DataGate"] in nodes["Transform"].upstream_nodes  # the gate blocks Transform
    assert nodes["ExampleValidator"] in nodes["DataGate"].upstream_nodes
    assert nodes["latest_blessed_model_resolver"] in nodes["Evaluator"].upstream_nodes
    assert nodes["Evaluator"] in nodes["Pusher"].upstream_nodes
    assert pipeline.enable_cache


def test_model_reads_the_span_window_and_drift_compares_with_the_previous_span(pipeline):
    nodes = _by_id(pipeline)
    window, previous = nodes["span_window_resolver"], nodes["previous_span_resolver"]
    assert nodes["CsvExampleGen"] in window.upstream_nodes  # this run's span is ingested first
    assert nodes["Transform"].inputs["examples"] is window.outputs["examples"]
    assert nodes["Evaluator"].inputs["examples"] is window.outputs["examples"]  # new and baseline on the same data
    # TFX keeps a Resolver's strategy config under the exec property "source_uri".
    assert window.exec_properties["source_uri"]["num_spans"] == 0  # default: every span
    assert previous.exec_properties["source_uri"] == {"num_spans": 1, "skip_recent": 1, "min_spans": 0}
    drift = nodes["DriftCheck"]
    assert drift.inputs["examples"] is nodes["CsvExampleGen"].outputs["examples"]
    assert drift.inputs["baseline_examples"] is previous.outputs["examples"]
    assert drift in nodes["Transform"].upstream_nodes


def test_ingest_pipeline_reads_one_older_span(tmp_path):
    from pipeline.pipeline import create_ingest_pipeline

    config = PipelineConfig(pipeline_root=tmp_path / "p", serving_dir=tmp_path / "s")
    [example_gen] = create_ingest_pipeline(config, span=3).components
    assert example_gen.id == "CsvExampleGen"  # same node: its artifacts join the span window
    assert json.loads(example_gen.exec_properties["range_config"])["static_range"] == {
        "start_span_number": 3,
        "end_span_number": 3,
    }


def test_transform_and_trainer_carry_config_and_code_fingerprint(pipeline):
    nodes = _by_id(pipeline)
    for name in ("Transform", "Trainer"):
        custom = nodes[name].exec_properties["custom_config"]
        assert cv.code_version() in str(custom)


def test_eval_config_gates_on_macro_f1_and_accuracy_with_baseline(pipeline):
    import tensorflow_model_analysis as tfma
    from google.protobuf import json_format

    config = json_format.Parse(_by_id(pipeline)["Evaluator"].exec_properties["eval_config"], tfma.EvalConfig())
    assert any(spec.is_baseline for spec in config.model_specs)
    gated = {
        m.class_name: m.per_slice_thresholds
        for spec in config.metrics_specs
        for m in spec.metrics
        if m.per_slice_thresholds
    }
    assert set(gated) == {"SparseCategoricalAccuracy", "MacroF1"}
    for per_slice in gated.values():
        (only,) = per_slice
        assert list(only.slicing_specs) == [tfma.SlicingSpec()]  # overall slice, not every slice
        assert only.threshold.HasField("change_threshold") and only.threshold.HasField("value_threshold")
    assert not any(m.HasField("threshold") for spec in config.metrics_specs for m in spec.metrics)
    # The gated macro-F1 is ours (absent classes do not make it NaN) and is importable by name.
    (macro,) = [m for spec in config.metrics_specs for m in spec.metrics if m.class_name == "MacroF1"]
    assert macro.module == "pipeline.metrics"
    assert not any(
        m.class_name == "F1Score" and m.per_slice_thresholds for spec in config.metrics_specs for m in spec.metrics
    )


def test_code_fingerprint_changes_with_model_code(tmp_path, monkeypatch):
    shutil.copytree(REPO / "trainer", tmp_path / "trainer")
    (tmp_path / "pipeline").mkdir()
    shutil.copy(REPO / "pipeline" / "config.py", tmp_path / "pipeline" / "config.py")
    monkeypatch.setattr(cv, "_PACKAGE_ROOT", tmp_path)
    before = cv.code_version()
    assert cv.code_version() == before
    with (tmp_path / "trainer" / "model.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert cv.code_version() != before
