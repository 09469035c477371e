"""The real pipeline with a pretrained-encoder model (a tiny BERT the test writes): Transform tokenises
in the graph, the Trainer fine-tunes, the Evaluator gates, the Pusher publishes a raw-text model."""

import json
import subprocess
import sys

import pytest

from datagen import generate_rows, write_csv
from lexflow.metadata import store as md
from lexflow.runs.local_run import run_local
from pipeline.config import PipelineConfig
from pipeline.schema_info import label_domain, load_schema
from tests.conftest import SCHEMA
from tests.trainer.encoder.tiny_bert import write_tiny_bert
from trainer.encoder.checkpoint import fingerprint

pytestmark = pytest.mark.e2e

SERVE = r"""
import json, sys
import tensorflow as tf, tensorflow_text  # noqa: F401
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](text=tf.constant(["This Agreement is governed by the laws of Delaware.", ""]))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}, default=lambda b: b.decode()))
"""


@pytest.fixture(scope="module")
def encoder_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("encoder-run")
    write_csv(root / "data" / "span-0" / "corpus.csv", generate_rows(200, seed=5))
    checkpoint = write_tiny_bert(root / "tiny-bert")
    config = PipelineConfig.model_validate(
        {
            "data_root": root / "data",
            "schema_path": SCHEMA,
            "pipeline_root": root / "pipeline",
            "metadata_path": root / "metadata.sqlite",
            "serving_dir": root / "serving",
            "encoder": {
                "checkpoint": str(checkpoint),
                "max_tokens": 32,
                "train_steps": 20,
                "eval_steps": 2,
                "batch_size": 16,
                "learning_rate": 1e-3,
            },
            # A random tiny encoder and 20 steps: the gate is not what this test is about.
            "thresholds": {"min_accuracy": 0.0, "min_macro_f1": 0.0},
        }
    )
    return config, run_local(config), checkpoint


def test_encoder_run_trains_blesses_and_pushes(encoder_run):
    config, summary, checkpoint = encoder_run
    assert summary.succeeded, [(c.component, c.state) for c in summary.components]
    assert summary.blessed is True and summary.pushed_version
    version_dir = config.model_dir / summary.pushed_version
    assert (version_dir / "assets" / "vocab.txt").is_file()  # the tokenizer travels with the model
    # The checkpoint's content hash is in the Transform and Trainer cache keys.
    store = md.open_store(config.metadata_path)
    by_component = {c.component: c for c in summary.components}
    for name in ("Transform", "Trainer"):
        [execution] = store.get_executions_by_id([by_component[name].execution.id])
        custom = json.loads(execution.custom_properties["custom_config"].string_value)
        assert custom["encoder_checkpoint_sha256"] == fingerprint(checkpoint)
        assert custom["encoder"]["checkpoint"] == str(checkpoint)


def test_pushed_encoder_model_answers_raw_text_in_a_plain_process(encoder_run):
    config, summary, _ = encoder_run
    result = subprocess.run(
        [sys.executable, "-c", SERVE, str(config.model_dir / summary.pushed_version)],
        capture_output=True,
        text=True,
        timeout=600,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    labels = set(label_domain(load_schema(SCHEMA)))
    for scores, classes, label in zip(out["scores"], out["classes"], out["label"], strict=True):
        assert set(classes) == labels and abs(sum(scores) - 1.0) < 1e-4
        assert label == classes[scores.index(max(scores))]
