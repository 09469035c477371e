import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from core import workspace
from pipeline.config import PipelineConfig


def test_defaults_point_at_demo_data_in_the_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv(workspace.HOME_ENV, str(tmp_path))
    config = PipelineConfig()
    assert config.data_root == tmp_path / "data" / "demo"
    assert config.dataset_name == "demo"
    assert config.model_name == config.pipeline_name == "lexflow"  # the embedded demo's model
    assert config.pipeline_root == tmp_path / "artifacts" / "lexflow" / "pipeline"
    assert config.metadata_path == tmp_path / "artifacts" / "lexflow" / "metadata.sqlite"
    assert config.model_dir == tmp_path / "artifacts" / "serving" / "lexflow"


def test_another_dataset_is_isolated_by_default(tmp_path, monkeypatch):
    """Its own model name, pipeline root, metadata store and model base dir: it never touches the demo's."""
    monkeypatch.setenv(workspace.HOME_ENV, str(tmp_path))
    demo = PipelineConfig()
    own = PipelineConfig(data_root=tmp_path / "contracts v2")
    assert own.dataset_name == "contracts v2" and own.model_name == own.pipeline_name == "contracts_v2"
    assert own.pipeline_root == tmp_path / "artifacts" / "contracts_v2" / "pipeline"
    assert own.metadata_path == tmp_path / "artifacts" / "contracts_v2" / "metadata.sqlite"
    assert own.model_dir == tmp_path / "artifacts" / "serving" / "contracts_v2"
    for field in ("pipeline_root", "metadata_path", "model_dir"):
        assert getattr(own, field) != getattr(demo, field)
    # Explicit choices win.
    named = PipelineConfig(data_root=tmp_path / "cuad", model_name="clauses", metadata_path=tmp_path / "m.sqlite")
    assert named.model_name == "clauses" and named.pipeline_root == tmp_path / "artifacts" / "clauses" / "pipeline"
    assert named.metadata_path == tmp_path / "m.sqlite"


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
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        PipelineConfig.load(tmp_path / "nope.yaml")


def test_beam_args_direct_runner_and_override():
    config = PipelineConfig()
    assert "--direct_running_mode=in_memory" in config.beam.pipeline_args()
    config = PipelineConfig.model_validate({"beam": {"extra_args": ["--runner=DataflowRunner", "--project=p"]}})
    assert config.beam.pipeline_args() == ["--runner=DataflowRunner", "--project=p"]


def test_each_component_gets_only_the_settings_it_reads():
    config = PipelineConfig.model_validate({"transform": {"vocab_size": 1234}})
    transform = json.loads(json.dumps(config.transform_custom_config()))
    trainer = json.loads(json.dumps(config.trainer_custom_config()))
    assert transform == {"transform": config.transform.model_dump(mode="json")}  # no trainer settings
    assert trainer["transform"]["vocab_size"] == 1234
    assert trainer["train"]["train_steps"] == config.train.train_steps
    assert "retrain" not in trainer and "thresholds" not in trainer


def test_real_data_configs_validate_and_reach_transform_and_trainer():
    """benchmarks/configs/*.json are plain pipeline configs; their char n-grams reach custom_config."""
    configs = Path(__file__).resolve().parents[2] / "benchmarks" / "configs"
    for path in sorted(configs.glob("*.json")):
        custom = PipelineConfig.load(path).trainer_custom_config()
        assert json.loads(json.dumps(custom)) == custom
        assert tuple(custom["transform"]["char_ngrams"]) == (2, 5), path.name
        assert custom["train"]["lr_decay"] == "cosine" and custom["train"]["loss"] == "squared_hinge", path.name


def test_one_path_rule_for_pipeline_serving_and_notebook_settings(tmp_path, monkeypatch):
    """A relative path means <LEXFLOW_HOME>/<path> (else <cwd>/<path>) in every settings object."""
    from lexflow.reports.notebook_settings import NotebookSettings
    from serving.settings import ServingSettings

    home = tmp_path / "home"
    monkeypatch.setenv(workspace.HOME_ENV, str(home))
    monkeypatch.chdir(tmp_path)
    pipeline = PipelineConfig(metadata_path=Path("meta.sqlite"), model_base_dir=Path("models"))
    serving = ServingSettings(model_base_dir=Path("models"), database_url="sqlite:///fb.sqlite")
    notebook = NotebookSettings.from_env({"LEXFLOW_METADATA_PATH": "meta.sqlite"})
    assert pipeline.metadata_path == notebook.metadata_path == home / "meta.sqlite"
    assert pipeline.model_base_dir == serving.model_base_dir == home / "models"
    assert serving.database_url == f"sqlite:///{home}/fb.sqlite"
    # Shared defaults: the gateway serves what the pipeline pushes, under the same model name.
    assert ServingSettings().model_base_dir == PipelineConfig().model_base_dir
    assert ServingSettings().model_name == PipelineConfig().model_name
    assert ServingSettings().database_url == f"sqlite:///{home}/artifacts/lexflow/feedback.sqlite"
    assert ServingSettings(model_name="cuad").database_url == f"sqlite:///{home}/artifacts/cuad/feedback.sqlite"
    assert NotebookSettings.from_env({}).metadata_path == PipelineConfig().metadata_path

    monkeypatch.delenv(workspace.HOME_ENV)
    assert PipelineConfig(metadata_path=Path("meta.sqlite")).metadata_path == tmp_path / "meta.sqlite"
    assert ServingSettings(database_url="postgresql+psycopg://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_command_line_options_are_checked_together(tmp_path):
    """`from_options` (what every command uses): --train-steps with the search on would be ignored."""
    with pytest.raises(ValidationError, match="--train-steps 12: the model search sizes its own steps"):
        PipelineConfig.from_options(None, **{"train.train_steps": 12})
    options = {"train.train_steps": 12, "tuning.enabled": False}
    assert PipelineConfig.from_options(None, **options).train.train_steps == 12
    # A file's train.train_steps is the base the search starts from: not an option, not refused.
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  train_steps: 7\n")
    assert PipelineConfig.from_options(path).train.train_steps == 7


def test_kubeflow_options_name_places_as_the_pods_see_them(tmp_path):
    places = {"pipeline_root": "gs://b/root", "data_root": "gs://b/data/demo", "serving_dir": "/mnt/models"}
    config = PipelineConfig.from_options(None, "kubeflow", **places)
    assert str(config.data_root) == "gs://b/data/demo" and config.serving_dir == Path("/mnt/models")
    with pytest.raises(ValidationError, match="--model-base-dir is required"):
        PipelineConfig.from_options(None, "kubeflow", **{**places, "serving_dir": None})
    with pytest.raises(ValidationError, match="--data-root data/demo: a relative path means nothing"):
        PipelineConfig.from_options(None, "kubeflow", **{**places, "data_root": "data/demo"})
    # Locally a relative path is the workspace's.
    assert PipelineConfig.from_options(None, **{**places, "data_root": "data/demo"}).data_root.is_absolute()


def test_the_model_base_dir_has_one_name_and_keeps_its_old_one(tmp_path):
    """`model_base_dir` holds <model>/<version>/ in the config as in the gateway's settings; `serving_dir`
    (config files, overrides, attribute) still reads as it, and the new name wins when both are given."""
    config = PipelineConfig(model_base_dir=tmp_path / "m", model_name="clauses")
    assert config.model_dir == tmp_path / "m" / "clauses" and config.serving_dir == tmp_path / "m"
    assert PipelineConfig(serving_dir=tmp_path / "old").model_base_dir == tmp_path / "old"
    path = tmp_path / "config.yaml"
    path.write_text(f"serving_dir: {tmp_path / 'file'}\n")
    assert PipelineConfig.load(path).model_base_dir == tmp_path / "file"
    assert PipelineConfig.load(path, model_base_dir=tmp_path / "cli").model_base_dir == tmp_path / "cli"
    path.write_text(f"model_base_dir: {tmp_path / 'file'}\n")
    assert PipelineConfig.load(path, serving_dir=tmp_path / "cli").model_base_dir == tmp_path / "cli"
