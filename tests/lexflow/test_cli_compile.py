"""`lexflow compile` is the Kubeflow compiler's command; `kubeflow_runner.py` is a thin entry point over it."""

from pathlib import Path

import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]


def test_lexflow_compile_writes_the_spec_kubeflow_runner_writes(tmp_path):
    import kubeflow_runner
    from lexflow.cli import app
    from lexflow.cli.compile import compile_for_kubeflow

    # One command behind both names.
    assert [c.callback for c in kubeflow_runner.app.registered_commands] == [compile_for_kubeflow]
    args = [
        "--image",
        "registry.example.com/lexflow:test",
        "--pipeline-root",
        "gs://b/root",
        "--data-root",
        "gs://b/data/demo",
        "--serving-dir",
        "gs://b/serving",
        "--no-search",
        "--train-steps",
        "9",
        "--output",
        str(tmp_path / "p.yaml"),
    ]
    result = CliRunner().invoke(app, ["compile", *args])
    assert result.exit_code == 0, result.output
    tasks = yaml.safe_load((tmp_path / "p.yaml").read_text())["root"]["dag"]["tasks"]
    assert "Trainer" in tasks and "ModelSearch" not in tasks
    # The schema's content is a parameter of its import, so KFP's cache key sees an edit of the file.
    from components.schema_import import schema_digest

    digest = tasks["ImportSchemaGen"]["inputs"]["parameters"]["schema_sha256"]["runtimeValue"]["constant"]
    assert digest == schema_digest(str(REPO / "schema" / "demo" / "schema.pbtxt"))

    # Option checks are the config's validators: the same line from either name.
    refused = CliRunner().invoke(app, ["compile", *args[:-5], "--train-steps", "9", "-o", str(tmp_path / "q.yaml")])
    assert refused.exit_code == 2 and "--train-steps 9: the model search sizes its own steps" in refused.output
    assert not (tmp_path / "q.yaml").exists()
    assert "_read_config_file" not in (REPO / "kubeflow_runner.py").read_text()
