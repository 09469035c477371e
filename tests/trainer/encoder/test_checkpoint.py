"""A checkpoint directory is checked when the config loads; every defect is named with its path."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from trainer.encoder.checkpoint import CheckpointError, fingerprint, inspect_checkpoint, read_weights
from trainer.encoder.params import FINGERPRINT_KEY, EncoderParams

from .tiny_bert import CONFIG, write_tiny_bert

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_bert(tmp_path_factory.mktemp("ckpt") / "tiny")


def test_inspect_reads_architecture_vocabulary_and_special_ids(tiny):
    checkpoint = inspect_checkpoint(tiny)
    assert checkpoint.config.hidden_size == 32 and checkpoint.config.num_hidden_layers == 2
    assert checkpoint.special_ids == {"[PAD]": 0, "[UNK]": 2, "[CLS]": 3, "[SEP]": 4}
    assert checkpoint.lower_case is True and checkpoint.prefix == ""


def test_weights_of_a_task_model_are_read_without_their_prefix(tmp_path):
    path = write_tiny_bert(tmp_path / "cls", prefix="bert.")
    checkpoint = inspect_checkpoint(path)
    weights = read_weights(checkpoint)
    assert checkpoint.prefix == "bert."
    assert weights["encoder.layer.1.output.dense.weight"].shape == (32, 64)  # [out, in] as stored
    assert not any(name.startswith("pooler") for name in weights)


def _break(path: Path, how: str) -> None:
    if how == "no vocab":
        (path / "vocab.txt").unlink()
    elif how == "bin weights only":
        (path / "model.safetensors").rename(path / "pytorch_model.bin")
    elif how == "roberta":
        config = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps({**config, "model_type": "roberta", "architectures": ["X"]}))
    elif how == "no [CLS]":
        (path / "vocab.txt").write_text((path / "vocab.txt").read_text().replace("[CLS]\n", "[CLX]\n"))
    elif how == "wrong shape":
        config = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps({**config, "intermediate_size": 48}))
    elif how == "not safetensors":
        (path / "model.safetensors").write_bytes(b"\x00" * 64)
    elif how.startswith("config "):  # "config <field>=<JSON value>"
        field, _, value = how.removeprefix("config ").partition("=")
        config = json.loads((path / "config.json").read_text())
        (path / "config.json").write_text(json.dumps({**config, field: json.loads(value)}))


@pytest.mark.parametrize(
    "how, message",
    [
        ("no vocab", "no vocab.txt"),
        ("bin weights only", r"no model.safetensors \(PyTorch .bin weights are not read"),
        ("roberta", r"unsupported architecture \(roberta\)"),
        ("no [CLS]", r"no \[CLS\] in the WordPiece vocabulary"),
        (
            "wrong shape",
            r"encoder.layer.0.intermediate.dense.weight has shape \[64, 32\], config.json implies \[48, 32\]",
        ),
        ("not safetensors", "not a readable safetensors file"),
        # Hand-edited configs: a clear message, never a ZeroDivisionError/TypeError traceback.
        ("config num_attention_heads=0", "num_attention_heads must be a positive integer, got 0"),
        ('config hidden_size="32"', "hidden_size must be a positive integer, got '32'"),
        ("config hidden_size=null", "hidden_size must be a positive integer, got None"),
        ("config num_hidden_layers=2.5", "num_hidden_layers must be a positive integer, got 2.5"),
        ("config max_position_embeddings=true", "max_position_embeddings must be a positive integer, got True"),
        ('config layer_norm_eps="x"', "layer_norm_eps must be a non-negative number, got 'x'"),
        ("config hidden_act=7", "hidden_act must be a string, got 7"),
    ],
)
def test_a_broken_checkpoint_is_named_with_the_reason(tmp_path, how, message):
    path = write_tiny_bert(tmp_path / "ckpt")
    _break(path, how)
    with pytest.raises(CheckpointError, match=rf"encoder checkpoint {path}.*{message}"):
        inspect_checkpoint(path)


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(CheckpointError, match=f"encoder checkpoint {tmp_path / 'nope'} does not exist"):
        inspect_checkpoint(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is not a directory"):
        inspect_checkpoint(tmp_path / "file")


def test_config_validation_resolves_the_path_and_reports_a_bad_one(tiny, tmp_path, monkeypatch):
    from pipeline.config import PipelineConfig

    monkeypatch.setenv("LEXFLOW_HOME", str(tiny.parent))
    params = EncoderParams(checkpoint="tiny")  # the workspace rule: relative to LEXFLOW_HOME
    assert params.checkpoint == tiny
    with pytest.raises(ValidationError, match=f"encoder checkpoint {tiny.parent / 'missing'} does not exist"):
        PipelineConfig.model_validate({"encoder": {"checkpoint": "missing"}})
    with pytest.raises(ValidationError, match="max_tokens 129 exceeds the checkpoint's max_position_embeddings 128"):
        EncoderParams(checkpoint=tiny, max_tokens=129)
    with pytest.raises(ValidationError, match="train_layers 3 exceeds the checkpoint's 2 layers"):
        EncoderParams(checkpoint=tiny, train_layers=3)


def test_custom_configs_split_tokenisation_from_training_and_carry_the_content_hash(tiny, tmp_path):
    from pipeline.config import PipelineConfig

    config = PipelineConfig.model_validate({"encoder": {"checkpoint": str(tiny), "learning_rate": 3e-5}})
    transform, trainer = config.transform_custom_config(), config.trainer_custom_config()
    assert set(transform["encoder"]) == {
        "checkpoint",
        "max_tokens",
        "lower_case",
    }  # a learning rate is no Transform input
    assert trainer["encoder"]["learning_rate"] == 3e-5
    assert transform[FINGERPRINT_KEY] == trainer[FINGERPRINT_KEY] == fingerprint(tiny)
    assert config.train_and_eval_steps() == (300, 10)
    assert (
        PipelineConfig().train_and_eval_steps() == (800, 50)
        and "encoder" not in PipelineConfig().transform_custom_config()
    )
    # Same path, new weights: a new hash, so Transform and Trainer re-run.
    copy = write_tiny_bert(tmp_path / "tiny")
    before = fingerprint(copy)
    write_tiny_bert(copy, seed=1)
    assert fingerprint(copy) != before


def test_random_weights_round_trip_through_safetensors(tiny):
    weights = read_weights(inspect_checkpoint(tiny))
    assert weights["embeddings.LayerNorm.weight"].dtype == np.float32
    assert np.allclose(weights["embeddings.LayerNorm.weight"], 1.0)
    assert len(weights) == 5 + 16 * CONFIG["num_hidden_layers"]


def test_cli_names_a_bad_checkpoint_in_one_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "local_runner.py"), "--encoder", str(tmp_path / "no-such-bert")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: config: encoder: encoder checkpoint {tmp_path / 'no-such-bert'} does not exist"]
