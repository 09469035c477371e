import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config import DEFAULT_DATA_ROOT, PipelineConfig


def test_defaults_point_at_demo_data_and_absolute_paths():
    config = PipelineConfig()
    assert config.data_root == DEFAULT_DATA_ROOT
    assert config.dataset_name == "demo"
    assert config.pipeline_root.is_absolute() and config.metadata_path.is_absolute()
    assert config.model_base_dir == config.serving_dir / "lexflow"


def test_file_then_overrides_with_dotted_keys(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"model_name": "clauses", "train": {"train_steps": 10, "batch_size": 8}}))
    config = PipelineConfig.load(path, **{"train.train_steps": 99, "thresholds.min_macro_f1": 0.7, "serving_dir": None})
    assert config.model_name == "clauses"
    assert config.train.train_steps == 99  # CLI beats file
    assert config.train.batch_size == 8  # file beats default
    assert config.thresholds.min_macro_f1 == 0.7
    assert config.serving_dir == PipelineConfig().serving_dir  # None means "not given"


def test_yaml_config(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("data_root: /data/cuad\ntransform:\n  ngram_max: 1\n")
    config = PipelineConfig.load(path)
    assert config.data_root == Path("/data/cuad") and config.dataset_name == "cuad"
    assert config.transform.ngram_max == 1


@pytest.mark.parametrize(
    "data",
    [
        {"train": {"train_stepz": 5}},  # typo in a key
        {"train": {"dropout": 1.5}},
        {"thresholds": {"min_accuracy": 2}},
        {"model_name": "../escape"},
        {"train": {"class_weighting": "extreme"}},
        {"train": {"class_weighting": 2.5}},
        {"train": {"lr_decay": "linear"}},
        {"transform": {"char_ngrams": [5, 2]}},  # lo > hi
        {"transform": {"char_ngrams": [0, 3]}},
        {"transform": {"char_ngrams": [2, 5, 7]}},
    ],
)
def test_invalid_values_are_rejected(data):
    with pytest.raises(ValidationError):
        PipelineConfig.model_validate(data)


def test_missing_config_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.yaml"):
        PipelineConfig.load(tmp_path / "nope.yaml")


def test_beam_args_direct_runner_and_override():
    config = PipelineConfig()
    assert "--direct_running_mode=in_memory" in config.beam.pipeline_args()
    config = PipelineConfig.model_validate({"beam": {"extra_args": ["--runner=DataflowRunner", "--project=p"]}})
    assert config.beam.pipeline_args() == ["--runner=DataflowRunner", "--project=p"]


def test_module_custom_config_is_json_and_carries_hparams():
    config = PipelineConfig.model_validate({"transform": {"vocab_size": 1234}})
    custom = json.loads(json.dumps(config.module_custom_config()))
    assert custom["transform"]["vocab_size"] == 1234
    assert custom["train"]["train_steps"] == config.train.train_steps


def test_real_data_configs_validate_and_reach_transform_and_trainer():
    """benchmarks/configs/*.json are plain pipeline configs; their char n-grams reach custom_config."""
    configs = Path(__file__).resolve().parent.parent / "benchmarks" / "configs"
    for path in sorted(configs.glob("*.json")):
        custom = PipelineConfig.load(path).module_custom_config()
        assert json.loads(json.dumps(custom)) == custom
        assert tuple(custom["transform"]["char_ngrams"]) == (2, 5), path.name
        assert custom["train"]["lr_decay"] == "cosine" and custom["train"]["loss"] == "squared_hinge", path.name
