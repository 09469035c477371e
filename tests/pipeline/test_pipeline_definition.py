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


def _config(root: Path, **overrides) -> PipelineConfig:
    schema = REPO / "schema" / "demo" / "schema.pbtxt"
    return PipelineConfig(pipeline_root=root / "p", serving_dir=root / "s", schema_path=schema, **overrides)


def _by_id(pipeline):
    return {c.id: c for c in pipeline.components}


def test_all_components_in_dependency_order_and_no_resolver(pipeline):
    ids = [c.id for c in pipeline.components]  # TFX orders them topologically
    assert sorted(ids) == sorted(
        [
            "ExampleGen",
            "StatisticsGen",
            "ImportSchemaGen",
            "ExampleValidator",
            "DataGate",
            "DriftCheck",
            "Transform",
            "ModelSearch",
            "Trainer",
            "ProductionBaseline",
            "Evaluator",
            "Pusher",
        ]
    )
    assert ids.index("ExampleGen") == 0 and ids[-3:] == ["ProductionBaseline", "Evaluator", "Pusher"]
    # One graph for every orchestrator: nothing only Vertex AI can run.
    assert not [c.id for c in pipeline.components if type(c).__name__ in ("Resolver", "Importer")]
    nodes = _by_id(pipeline)
    assert nodes["DataGate"] in nodes["Transform"].upstream_nodes  # the gate blocks Transform
    assert nodes["ExampleValidator"] in nodes["DataGate"].upstream_nodes
    assert nodes["ProductionBaseline"] in nodes["Evaluator"].upstream_nodes
    assert nodes["Evaluator"] in nodes["Pusher"].upstream_nodes
    assert pipeline.enable_cache


def test_the_window_trains_evaluates_and_is_validated_and_drift_compares_newest_with_previous(pipeline):
    nodes = _by_id(pipeline)
    example_gen = nodes["ExampleGen"]
    window = example_gen.outputs["examples"]
    for consumer in ("StatisticsGen", "Transform", "Evaluator"):
        assert nodes[consumer].inputs["examples"] is window  # new model and baseline on the same data
    drift = nodes["DriftCheck"]
    assert drift.inputs["examples"] is example_gen.outputs["newest_examples"]
    assert drift.inputs["baseline_examples"] is example_gen.outputs["previous_examples"]
    assert drift in nodes["Transform"].upstream_nodes
    assert example_gen.exec_properties["window"] == 0  # default: every span
    assert example_gen.exec_properties["input_pattern"] == "span-{SPAN}/*.csv"


def test_the_baseline_is_the_model_in_production_of_this_model_dir(pipeline):
    nodes = _by_id(pipeline)
    baseline = nodes["ProductionBaseline"]
    assert baseline.inputs["model"] is nodes["Trainer"].outputs["model"]
    assert nodes["Evaluator"].inputs["baseline_model"] is baseline.outputs["baseline_model"]
    pushed_to = json.loads(nodes["Pusher"].exec_properties["push_destination"])["filesystem"]["base_directory"]
    assert baseline.exec_properties["model_dir"] == pushed_to


def test_transform_and_trainer_carry_only_their_settings_and_the_code_fingerprint(pipeline):
    nodes = _by_id(pipeline)
    transform, search, trainer = (
        json.loads(nodes[name].exec_properties["custom_config"]) for name in ("Transform", "ModelSearch", "Trainer")
    )
    assert transform["code_version"] == search["code_version"] == trainer["code_version"] == cv.code_version()
    assert "train" not in transform and trainer["train"]["train_steps"] == 800
    # Only the search reads its settings: its budget is no part of the Trainer's cache key.
    assert search["tuning"]["enabled"] is True and "tuning" not in trainer and "tuning" not in transform
    assert search["train"] == trainer["train"] and search["transform"] == trainer["transform"]


def test_the_model_search_chooses_the_trainers_hyperparameters_unless_turned_off(tmp_path):
    nodes = _by_id(create_pipeline(_config(tmp_path)))
    search = nodes["ModelSearch"]
    assert search in nodes["Trainer"].upstream_nodes
    assert nodes["Trainer"].inputs["hyperparameters"] is search.outputs["best_hyperparameters"]
    assert search.inputs["examples"] is nodes["Transform"].outputs["transformed_examples"]
    assert type(search).__module__ == "components.model_search.component"

    explicit = _by_id(create_pipeline(_config(tmp_path, tuning={"enabled": False})))
    assert "ModelSearch" not in explicit and "hyperparameters" not in explicit["Trainer"].inputs


def test_an_encoder_is_trained_as_configured_without_a_model_search(tmp_path):
    from tests.trainer.encoder.tiny_bert import write_tiny_bert

    encoder = {"checkpoint": str(write_tiny_bert(tmp_path / "bert")), "train_steps": 30, "eval_steps": 3}
    nodes = _by_id(create_pipeline(_config(tmp_path, encoder=encoder)))  # tuning.enabled stays at its default
    assert "ModelSearch" not in nodes and "hyperparameters" not in nodes["Trainer"].inputs
    trainer = nodes["Trainer"]
    assert nodes["Transform"] in trainer.upstream_nodes
    custom = json.loads(trainer.exec_properties["custom_config"])
    assert custom["encoder"]["checkpoint"] == encoder["checkpoint"] and "tuning" not in custom
    # The Trainer's step budget is the encoder's, not `train`'s (800).
    assert json.loads(trainer.exec_properties["train_args"])["num_steps"] == 30
    assert json.loads(trainer.exec_properties["eval_args"])["num_steps"] == 3


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
    assert set(gated) == {"ArgmaxAccuracy", "MacroF1"}
    for per_slice in gated.values():
        (only,) = per_slice
        assert list(only.slicing_specs) == [tfma.SlicingSpec()]  # overall slice, not every slice
        assert only.threshold.HasField("change_threshold") and only.threshold.HasField("value_threshold")
    assert not any(m.HasField("threshold") for spec in config.metrics_specs for m in spec.metrics)
    # The gated metrics are ours (absent classes do not make macro-F1 NaN) and importable by name.
    ours = {"MacroF1", "ArgmaxAccuracy", "PerClassMetrics"}
    assert {m.module for spec in config.metrics_specs for m in spec.metrics if m.class_name in ours} == {
        "pipeline.metrics"
    }
    # One spec, no binarization: every metric comes from one confusion matrix per model and slice.
    (spec,) = config.metrics_specs
    assert not spec.HasField("binarize") and list(spec.output_names) == ["scores"]
    assert {m.class_name for m in spec.metrics} == {"ExampleCount", "MultiClassConfusionMatrixPlot", *ours}


def test_code_fingerprint_changes_with_model_code(tmp_path, monkeypatch):
    shutil.copytree(REPO / "trainer", tmp_path / "trainer")
    monkeypatch.setattr(cv, "_PACKAGE_ROOT", tmp_path)
    before = cv.code_version()
    assert cv.code_version() == before
    with (tmp_path / "trainer" / "model.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert cv.code_version() != before
    edited = cv.code_version()
    with (tmp_path / "trainer" / "encoder" / "model.py").open("a") as handle:  # a subpackage counts too
        handle.write("\n# changed\n")
    assert cv.code_version() != edited
