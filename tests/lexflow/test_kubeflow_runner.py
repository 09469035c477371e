"""kubeflow_runner.py: the compiled KFP v2 spec (structure, wiring, KFP SDK loading) and its errors.

Compilation only (no cluster): a few seconds once TFX is imported.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
IMAGE = "registry.example.com/lexflow:test"
BUCKET = "gs://lexflow-test"
DATAFLOW_ARGS = [
    "--runner=DataflowRunner",
    "--project=p",
    "--region=europe-west1",
    f"--temp_location={BUCKET}/tmp",
    f"--sdk_container_image={IMAGE}",
]
CONTAINER_TASKS = {
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
}


def _invoke(args):
    import kubeflow_runner

    return CliRunner().invoke(kubeflow_runner.app, args, env={"COLUMNS": "300", "NO_COLOR": "1"})


def _main_args(output: Path, *extra: str) -> list[str]:
    return [
        "--image",
        IMAGE,
        "--pipeline-root",
        f"{BUCKET}/root",
        "--data-root",
        f"{BUCKET}/data/demo",
        "--serving-dir",
        f"{BUCKET}/serving",
        "--train-steps",
        "123",
        "--output",
        str(output),
        *[f"--beam-arg={a}" for a in DATAFLOW_ARGS],
        *extra,
    ]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    """The same options compiled to .yaml (PipelineSpec) and .json (PipelineJob), plus a variant."""
    root = tmp_path_factory.mktemp("kfp")
    results = {}
    for suffix in ("yaml", "json"):
        result = _invoke(_main_args(root / f"lexflow.{suffix}"))
        assert result.exit_code == 0, result.output
        results[suffix] = result
    # Variant: locations and hyper-parameters from --config (URIs must survive the file path too), a
    # dataset without a curated schema plus an explicit --schema, a portable Beam runner, no cache.
    config = root / "kfp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "pipeline_root": "s3://other/root",
                "data_root": "s3://other/contracts",
                "serving_dir": "s3://other/serving",
                "model_name": "clauses",
                "train": {"train_steps": 7},
                "beam": {"extra_args": ["--runner=PortableRunner", "--job_endpoint=flink-jobserver:8099"]},
            }
        )
    )
    variant = _invoke(
        [
            "--image",
            IMAGE,
            "--config",
            str(config),
            "--schema",
            str(REPO / "schema/demo/schema.pbtxt"),
            "--image-project-root",
            "/opt/lexflow",
            "--no-cache",
            "--output",
            str(root / "variant.yaml"),
        ]
    )
    assert variant.exit_code == 0, variant.output
    with (root / "lexflow.yaml").open() as handle:
        spec = yaml.safe_load(handle)
    return {
        "spec": spec,
        "job": json.loads((root / "lexflow.json").read_text()),
        "variant": yaml.safe_load((root / "variant.yaml").read_text()),
        "paths": {"yaml": root / "lexflow.yaml", "json": root / "lexflow.json"},
        "results": {**results, "variant": variant},
    }


def _tasks(spec):
    return spec["root"]["dag"]["tasks"]


def _params(spec, task):
    return {
        name: value["runtimeValue"]["constantValue"]
        for name, value in _tasks(spec)[task]["inputs"]["parameters"].items()
    }


def _string_param(spec, task, name):
    return _params(spec, task)[name]["stringValue"]


def _executor(spec, task):
    label = spec["components"][_tasks(spec)[task]["componentRef"]["name"]]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]


# --- the spec is a valid KFP v2 pipeline --------------------------------------------------------------


def test_spec_parses_strictly_as_kfp_protos(compiled):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    # ignore_unknown_fields=False: a misspelt or misplaced field fails here.
    spec = json_format.ParseDict(compiled["spec"], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    job = json_format.ParseDict(compiled["job"], pipeline_spec_pb2.PipelineJob(), ignore_unknown_fields=False)
    assert spec.pipeline_info.name == "lexflow" and spec.schema_version == "2.0.0"
    assert spec.sdk_version.startswith("tfx-1.16")
    # .json and .yaml are the same pipeline; the .json adds the runtime config.
    assert json_format.MessageToDict(job.pipeline_spec) == compiled["spec"]
    assert job.runtime_config.gcs_output_directory == f"{BUCKET}/root"


def test_kfp_sdk_loads_the_yaml_and_compiles_it_as_a_sub_pipeline(compiled, tmp_path):
    from kfp import compiler, dsl
    from kfp.components import load_component_from_file

    component = load_component_from_file(str(compiled["paths"]["yaml"]))  # what KFP users load
    assert component.name == "lexflow"
    assert set(component.pipeline_spec.root.dag.tasks) == set(_tasks(compiled["spec"]))

    @dsl.pipeline(name="wrapper")
    def wrapper():
        component()

    compiler.Compiler().compile(wrapper, str(tmp_path / "wrapper.yaml"))  # KFP's own compiler accepts it
    assert "comp-lexflow" in yaml.safe_load((tmp_path / "wrapper.yaml").read_text())["components"]


def test_references_inside_the_spec_resolve(compiled):
    spec = compiled["spec"]
    tasks = _tasks(spec)
    for name, task in tasks.items():
        component = spec["components"][task["componentRef"]["name"]]
        assert component["executorLabel"] in spec["deploymentSpec"]["executors"], name
        assert set(task.get("dependentTasks", [])) <= set(tasks), name
        for artifact in task.get("inputs", {}).get("artifacts", {}).values():
            producer = artifact["taskOutputArtifact"]["producerTask"]
            assert (
                artifact["taskOutputArtifact"]["outputArtifactKey"]
                in spec["components"][tasks[producer]["componentRef"]["name"]]["outputDefinitions"]["artifacts"]
            )


# --- the DAG is the pipeline's --------------------------------------------------------------------------


def test_every_component_is_a_task_in_dependency_order(compiled):
    tasks = _tasks(compiled["spec"])
    assert set(tasks) == CONTAINER_TASKS  # no resolver: the open-source KFP backend runs none
    depends = {name: set(task.get("dependentTasks", [])) for name, task in tasks.items()}
    assert depends["StatisticsGen"] == {"ExampleGen"}
    assert depends["ExampleValidator"] == {"StatisticsGen", "ImportSchemaGen"}
    assert depends["DataGate"] == {"ExampleValidator"}
    assert {"DataGate", "DriftCheck"} <= depends["Transform"]  # the data gate blocks Transform
    assert depends["DriftCheck"] == {"ExampleGen"}  # newest vs. previous span, both from ExampleGen
    assert "Transform" in depends["ModelSearch"] and {"Transform", "ModelSearch"} <= depends["Trainer"]
    chosen = tasks["Trainer"]["inputs"]["artifacts"]["hyperparameters"]["taskOutputArtifact"]
    assert (chosen["producerTask"], chosen["outputArtifactKey"]) == ("ModelSearch", "best_hyperparameters")
    assert {"Trainer", "ProductionBaseline"} <= depends["Evaluator"]
    assert {"Evaluator", "Trainer"} <= depends["Pusher"]
    # The baseline is the model in production, and only a blessing from this run's Evaluator gates the push.
    evaluator_inputs = tasks["Evaluator"]["inputs"]["artifacts"]
    assert evaluator_inputs["baseline_model"]["taskOutputArtifact"]["producerTask"] == "ProductionBaseline"
    assert evaluator_inputs["model"]["taskOutputArtifact"]["producerTask"] == "Trainer"
    blessing = tasks["Pusher"]["inputs"]["artifacts"]["model_blessing"]["taskOutputArtifact"]
    assert (blessing["producerTask"], blessing["outputArtifactKey"]) == ("Evaluator", "blessing")


def test_every_container_runs_the_given_image_with_the_tfx_entry_point(compiled):
    spec = compiled["spec"]
    for task in CONTAINER_TASKS:
        container = _executor(spec, task)["container"]
        assert container["image"] == IMAGE, task
        assert container["command"][-1] == "tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor"
    # The custom components' executors are our classes, importable in the image.
    assert "components.data_gate.executor.Executor" in _executor(spec, "DataGate")["container"]["args"]
    assert "components.model_pusher.executor.Executor" in _executor(spec, "Pusher")["container"]["args"]
    assert "components.model_search.executor.Executor" in _executor(spec, "ModelSearch")["container"]["args"]


def test_beam_args_reach_every_component(compiled):
    for task in CONTAINER_TASKS:
        args = _executor(compiled["spec"], task)["container"]["args"]
        assert all(arg in args for arg in DATAFLOW_ARGS), task
        assert not any(arg.startswith("--direct_running_mode") for arg in args), task  # a runner replaces them
    assert "note:" not in compiled["results"]["yaml"].output  # a worker image was given


def test_module_paths_and_custom_config_are_wired(compiled):
    from pipeline import code_version
    from pipeline.pipeline import PREPROCESSING_FN, RUN_FN

    spec = compiled["spec"]
    assert _string_param(spec, "Transform", "preprocessing_fn") == PREPROCESSING_FN
    assert _string_param(spec, "Trainer", "run_fn") == RUN_FN
    for task in ("Transform", "Trainer"):
        custom = json.loads(_string_param(spec, task, "custom_config"))
        assert custom["code_version"] == code_version.code_version()  # cache key follows the model code
        assert custom["transform"]["vocab_size"] == 60_000
        # Trainer settings are the Trainer's alone: changing them must not re-run Transform.
        assert ("train" in custom) == (task == "Trainer")
    assert json.loads(_string_param(spec, "Trainer", "custom_config"))["train"]["train_steps"] == 123
    assert json.loads(_string_param(spec, "Trainer", "train_args")) == {"num_steps": 123}
    eval_config = json.loads(_string_param(spec, "Evaluator", "eval_config"))
    assert any(model.get("is_baseline") for model in eval_config["model_specs"])


def test_locations_are_kept_as_bucket_uris(compiled):
    spec = compiled["spec"]
    assert spec["defaultPipelineRoot"] == f"{BUCKET}/root"
    assert _string_param(spec, "ExampleGen", "input_base") == f"{BUCKET}/data/demo"
    # Remote: the span layout; the executor resolves the window of spans at run time.
    assert _string_param(spec, "ExampleGen", "input_pattern") == "span-{SPAN}/*.csv"
    destination = json.loads(_string_param(spec, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == f"{BUCKET}/serving/lexflow"
    caching = {name: task.get("cachingOptions", {}).get("enableCache", False) for name, task in _tasks(spec).items()}
    # ExampleGen reads files its cache key cannot see (no driver runs on KFP): it runs every time.
    assert caching == {name: name != "ExampleGen" for name in CONTAINER_TASKS}


def test_schema_is_read_from_the_image(compiled):
    assert _string_param(compiled["spec"], "ImportSchemaGen", "schema_file") == "/pipeline/schema/demo/schema.pbtxt"
    assert (REPO / "schema/demo/schema.pbtxt").is_file()  # what the image copies to that path


def test_config_file_schema_option_portable_runner_and_no_cache(compiled):
    spec = compiled["variant"]
    assert spec["defaultPipelineRoot"] == "s3://other/root"
    assert _string_param(spec, "ExampleGen", "input_base") == "s3://other/contracts"
    destination = json.loads(_string_param(spec, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == "s3://other/serving/clauses"
    assert json.loads(_string_param(spec, "Trainer", "train_args")) == {"num_steps": 7}
    assert _string_param(spec, "ImportSchemaGen", "schema_file") == "/opt/lexflow/schema/demo/schema.pbtxt"
    assert "--job_endpoint=flink-jobserver:8099" in _executor(spec, "Transform")["container"]["args"]
    assert not any(task.get("cachingOptions", {}).get("enableCache") for task in _tasks(spec).values())
    assert "note: beam runner PortableRunner without a worker image" in compiled["results"]["variant"].output


# --- bad input: one `error:` line, exit code 2, nothing written ------------------------------------------


def _replace(args, option, value):
    args = list(args)
    args[args.index(option) + 1] = value
    return args


def _drop(args, option):
    args = list(args)
    del args[args.index(option) : args.index(option) + 2]
    return args


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: _drop(a, "--image"), "--image is required"),
        (lambda a: _drop(a, "--pipeline-root"), "--pipeline-root is required"),
        (lambda a: _replace(a, "--pipeline-root", "/mnt/root"), "must be a bucket URI"),
        (lambda a: _replace(a, "--data-root", "data/demo"), "--data-root data/demo: a relative path"),
        (
            lambda a: _replace(a, "--data-root", f"{BUCKET}/data/no-such-dataset"),
            "no curated schema for dataset 'no-such-dataset'",
        ),
        (
            lambda a: [x for x in a if not x.startswith("--beam-arg=--region")],
            "beam runner DataflowRunner needs --region",
        ),
        (lambda a: [*a, "--beam-arg=DataflowRunner"], "beam arg 'DataflowRunner' is not a --option"),
        (lambda a: [*a, "--output", "pipeline.txt"], "use .yaml"),  # the last --output wins
        (lambda a: [*a, "--image-project-root", "pipeline"], "--image-project-root pipeline must be an absolute path"),
    ],
)
def test_bad_input_is_one_error_line(tmp_path, change, message):
    output = tmp_path / "out.yaml"
    result = _invoke(change(_main_args(output)))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert not list(tmp_path.iterdir())  # nothing compiled


def test_schema_outside_the_project_is_refused(tmp_path):
    schema = tmp_path / "schema.pbtxt"
    schema.write_text((REPO / "schema/demo/schema.pbtxt").read_text())
    result = _invoke(_main_args(tmp_path / "out.yaml", "--schema", str(schema)))
    assert result.exit_code == 2
    assert "outside the project" in result.output and "rebuild the image" in result.output


def test_config_file_errors_name_the_field(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("train:\n  train_stepz: 5\n")
    result = _invoke(_main_args(tmp_path / "out.yaml", "--config", str(config)))
    assert result.exit_code == 2 and result.output.startswith("error: config: train.train_stepz")


def test_unwritable_output_is_reported(tmp_path):
    (tmp_path / "file").write_text("")
    result = _invoke(_main_args(tmp_path / "file" / "out.yaml"))
    assert result.exit_code == 2 and result.output.startswith("error: cannot write"), result.output


def test_script_entry_point_fails_cleanly_without_traceback():
    process = subprocess.run(
        [sys.executable, str(REPO / "kubeflow_runner.py"), "--data-root", "x"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert process.returncode == 2
    assert process.stderr.startswith("error: --image is required") and "Traceback" not in process.stderr
