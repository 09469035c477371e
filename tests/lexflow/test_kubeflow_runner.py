"""kubeflow_runner.py: the compiled KFP v2 spec (structure, wiring, what the KFP backend reads, KFP SDK and
Vertex AI client loading), the documented commands, and its errors.

Compilation only (no cluster): a few seconds each once TFX is imported. The spec is executed task by task
in tests/e2e/test_kubeflow_execution.py.
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
IMAGE = "registry.example.com/lexflow:test"
IMAGE_DIGEST = "registry.example.com/lexflow@sha256:" + "5f" * 32
CLUSTER_CONFIG = REPO / "deploy/kubeflow/pipeline-config.yaml"
BUCKET = "gs://lexflow-test"
# docs/kubeflow.md's Flink recipe: a Beam job server, the worker pool beside each Flink TaskManager.
PORTABLE_ARGS = [
    "--runner=PortableRunner",
    "--job_endpoint=flink-jobserver:8099",
    "--environment_type=EXTERNAL",
    "--environment_config=localhost:50000",
    f"--sdk_container_image={IMAGE}",
]
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
                "data_root": "gs://other/contracts",
                "serving_dir": "gs://other/serving",
                "model_name": "clauses",
                "train": {"train_steps": 7},
                "resources": {"trainer": {"cpu_limit": 8, "memory_limit_gb": 32}},
                "beam": {"extra_args": PORTABLE_ARGS},
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
    # On a cluster without GCS (docs/kubeflow.md §2): the shipped config's shared volumes, in-pod locations on
    # them, a dataset whose name Kubeflow does not take as it is, the image by digest.
    cluster = _invoke(
        [
            "--image",
            IMAGE_DIGEST,
            "--config",
            str(CLUSTER_CONFIG),
            "--pipeline-root",
            "minio://mlpipeline/v2/artifacts",
            "--data-root",
            "/data/cuad_clauses",
            "--serving-dir",
            "/models",
            "--output",
            str(root / "cluster.yaml"),
        ]
    )
    assert cluster.exit_code == 0, cluster.output
    with (root / "lexflow.yaml").open() as handle:
        spec = yaml.safe_load(handle)
    return {
        "spec": spec,
        "job": json.loads((root / "lexflow.json").read_text()),
        "variant": yaml.safe_load((root / "variant.yaml").read_text()),
        "cluster": list(yaml.safe_load_all((root / "cluster.yaml").read_text())),
        "paths": {"yaml": root / "lexflow.yaml", "json": root / "lexflow.json", "cluster": root / "cluster.yaml"},
        "results": {**results, "variant": variant, "cluster": cluster},
    }


def _tasks(spec):
    return spec["root"]["dag"]["tasks"]


def _params(spec, task):
    # Schema 2.1: `runtimeValue.constant`, the only kind the KFP driver resolves (driver/resolve.go).
    return {
        name: value["runtimeValue"]["constant"] for name, value in _tasks(spec)[task]["inputs"]["parameters"].items()
    }


def _string_param(spec, task, name):
    value = _params(spec, task)[name]
    assert isinstance(value, str), (task, name, value)
    return value


def _executor(spec, task):
    label = spec["components"][_tasks(spec)[task]["componentRef"]["name"]]["executorLabel"]
    return spec["deploymentSpec"]["executors"][label]


# --- the spec is a valid KFP v2 pipeline --------------------------------------------------------------


def test_spec_parses_strictly_as_kfp_protos(compiled):
    from google.protobuf import json_format
    from kfp.pipeline_spec import pipeline_spec_pb2

    # ignore_unknown_fields=False: a misspelt or misplaced field fails here, as in the KFP API server's parse.
    spec = json_format.ParseDict(compiled["spec"], pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
    job = json_format.ParseDict(compiled["job"], pipeline_spec_pb2.PipelineJob(), ignore_unknown_fields=False)
    # The KFP API server accepts schema 2.1.0 only (apiserver/template/v2_template.go).
    assert spec.pipeline_info.name == "lexflow" and spec.schema_version == "2.1.0"
    assert spec.sdk_version.startswith("tfx-1.16")
    # .json and .yaml are the same pipeline; the .json adds the runtime config.
    assert json_format.MessageToDict(job.pipeline_spec) == compiled["spec"]
    assert job.runtime_config.gcs_output_directory == f"{BUCKET}/root"


def test_vertex_client_takes_the_json_pipeline_job(compiled):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import aiplatform

    job = aiplatform.PipelineJob(  # parses and checks the template locally; nothing is submitted
        display_name="lexflow",
        template_path=str(compiled["paths"]["json"]),
        project="project",
        location="europe-west1",
        credentials=AnonymousCredentials(),
    )
    resource = job._gca_resource
    assert resource.runtime_config.gcs_output_directory == f"{BUCKET}/root"
    assert resource.pipeline_spec["schemaVersion"] == "2.1.0"
    assert set(resource.pipeline_spec["root"]["dag"]["tasks"]) == CONTAINER_TASKS


def test_kfp_client_reads_the_yaml_it_uploads(compiled):
    from kfp.client import client

    # What kfp.Client().create_run_from_pipeline_package and upload_pipeline parse before sending.
    document = client._extract_pipeline_yaml(str(compiled["paths"]["yaml"]))
    assert document.pipeline_spec.schema_version == "2.1.0"


def test_kfp_sdk_loads_the_yaml_and_compiles_it_as_a_sub_pipeline(compiled, tmp_path):
    """The KFP SDK can use the pipeline as a component of another. kfp 2.5 (the SDK TFX 1.16 pins)
    predates the resource quantity fields (kfp-pipeline-spec 0.2.2), which SDKs from 2.10 write and
    read themselves; without them, 2.5 loads the rest (docs/kubeflow.md, Known limits)."""
    from kfp import compiler, dsl
    from kfp.components import load_component_from_file

    spec = json.loads(json.dumps(compiled["spec"]))
    for executor in spec["deploymentSpec"]["executors"].values():
        resources = executor["container"]["resources"]
        for field in [f for f in resources if f.startswith("resource")]:
            del resources[field]
    older = tmp_path / "for-kfp-2.5.yaml"
    older.write_text(yaml.safe_dump(spec))
    component = load_component_from_file(str(older))  # what KFP users load
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


def test_local_graph_and_compiled_spec_have_the_same_nodes_and_edges(compiled, tmp_path):
    """One graph for every runner: what LocalDagRunner runs (create_pipeline with a local config, as
    lexflow/runs/local_run.py builds it) is node for node and edge for edge what the spec holds."""
    from pipeline.config import PipelineConfig
    from pipeline.pipeline import create_pipeline

    local = create_pipeline(
        PipelineConfig(
            pipeline_root=tmp_path / "p",
            serving_dir=tmp_path / "s",
            data_root=tmp_path / "data" / "demo",
            schema_path=REPO / "schema" / "demo" / "schema.pbtxt",
        )
    )
    local_edges = {node.id: {up.id for up in node.upstream_nodes} for node in local.components}
    spec_edges = {name: set(task.get("dependentTasks", [])) for name, task in _tasks(compiled["spec"]).items()}
    assert spec_edges == local_edges
    # The data edges too: every input artifact comes from the producer and output key the local graph wires.
    for node in local.components:
        spec_inputs = _tasks(compiled["spec"])[node.id].get("inputs", {}).get("artifacts", {})
        for key, channel in node.inputs.items():
            source = spec_inputs[key]["taskOutputArtifact"]
            assert (source["producerTask"], source["outputArtifactKey"]) == (
                channel.producer_component_id,
                channel.output_key,
            ), (node.id, key)


def test_every_container_runs_the_image_entry_point_with_tfx_arguments(compiled):
    from lexflow.runs.kubeflow.compile import ENTRYPOINT_COMMAND

    spec = compiled["spec"]
    assert set(spec["deploymentSpec"]["executors"]) == {f"{task}_executor" for task in CONTAINER_TASKS}
    for task in CONTAINER_TASKS:
        executor = _executor(spec, task)
        assert set(executor) == {"container"}, task  # no resolver, importer or lifecycle hook
        container = executor["container"]
        assert container["image"] == IMAGE, task
        assert container["command"] == ENTRYPOINT_COMMAND, task
        args = container["args"]
        assert args[args.index("--json_serialized_invocation_args") + 1] == "{{$}}", task
        inputs_spec = json.loads(args[args.index("--json_serialized_inputs_spec_args") + 1])
        component = spec["components"][_tasks(spec)[task]["componentRef"]["name"]]
        assert inputs_spec == component.get("inputDefinitions", {}), task  # where the entry point finds types
    # The custom components' executors are our classes, importable in the image.
    assert "components.data_gate.executor.Executor" in _executor(spec, "DataGate")["container"]["args"]
    assert "components.model_pusher.executor.Executor" in _executor(spec, "Pusher")["container"]["args"]
    assert "components.model_search.executor.Executor" in _executor(spec, "ModelSearch")["container"]["args"]


def test_every_artifact_type_is_one_the_tfx_entry_point_can_import(compiled):
    from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_entrypoint_utils as utils
    from tfx.utils import import_utils

    titles = {
        artifact["artifactType"]["instanceSchema"]
        for component in compiled["spec"]["components"].values()
        for side in ("inputDefinitions", "outputDefinitions")
        for artifact in component.get(side, {}).get("artifacts", {}).values()
    }
    for schema in titles:
        from kfp.pipeline_spec import pipeline_spec_pb2

        class_path = utils._retrieve_class_path(pipeline_spec_pb2.ArtifactTypeSchema(instance_schema=schema))
        assert import_utils.import_class_by_path(class_path), schema


def test_every_task_requests_cpu_and_memory_in_both_spellings(compiled):
    from pipeline.config import ResourceParams

    defaults = ResourceParams()
    for task in CONTAINER_TASKS:
        resources = _executor(compiled["spec"], task)["container"]["resources"]
        expected = defaults.for_node(task)
        # Floats: read by every KFP 2.x driver (memory in decimal GB, formatted "%vG").
        assert (resources["cpuRequest"], resources["cpuLimit"]) == (expected.cpu_request, expected.cpu_limit), task
        assert (resources["memoryRequest"], resources["memoryLimit"]) == (
            expected.memory_request_gb,
            expected.memory_limit_gb,
        ), task
        # Quantities: read by 2.4+ and preferred there; they must say the same.
        for field in ("CpuRequest", "CpuLimit", "MemoryRequest", "MemoryLimit"):
            quantity = resources[f"resource{field}"]
            assert re.fullmatch(r"\d+(\.\d+)?G?", quantity), (task, field, quantity)
            value = float(quantity.rstrip("G"))
            assert value == resources[field[0].lower() + field[1:]], (task, field)
            assert quantity.endswith("G") == field.startswith("Memory"), (task, field)
    heavy = {t for t in CONTAINER_TASKS if _executor(compiled["spec"], t)["container"]["resources"]["memoryLimit"] > 2}
    assert heavy == {"Transform", "ModelSearch", "Trainer", "Evaluator"}  # the search trains as the Trainer does
    # A config file sizes one task without touching the others.
    variant = _executor(compiled["variant"], "Trainer")["container"]["resources"]
    assert (variant["cpuLimit"], variant["resourceMemoryLimit"]) == (8.0, "32G")
    assert _executor(compiled["variant"], "Transform")["container"]["resources"]["cpuLimit"] == 2.0


def test_beam_args_reach_every_component(compiled):
    for task in CONTAINER_TASKS:
        args = _executor(compiled["spec"], task)["container"]["args"]
        assert all(arg in args for arg in DATAFLOW_ARGS), task
        assert not any(arg.startswith("--direct_running_mode") for arg in args), task  # a runner replaces them
    # Remote workers open the artifacts themselves: not a pod's local copy of a minio:// or s3:// root.
    assert "note: beam runner DataflowRunner: its workers read and write the tasks' artifacts" in (
        compiled["results"]["yaml"].output
    )


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
    # The Trainer fits on train (and refits on train + validation, its eval_args split): never on eval.
    assert json.loads(_string_param(spec, "Trainer", "train_args")) == {"splits": ["train"], "num_steps": 800}
    eval_config = json.loads(_string_param(spec, "Evaluator", "eval_config"))
    assert any(model.get("is_baseline") for model in eval_config["model_specs"])


def test_locations_are_kept_as_bucket_uris(compiled):
    spec = compiled["spec"]
    assert spec["defaultPipelineRoot"] == f"{BUCKET}/root"  # for Vertex AI and the KFP SDK; KFP takes the run's
    assert _string_param(spec, "ExampleGen", "input_base") == f"{BUCKET}/data/demo"
    # Remote: the span layout; the executor resolves the window of spans at run time.
    assert _string_param(spec, "ExampleGen", "input_pattern") == "span-{SPAN}/*.csv"
    destination = json.loads(_string_param(spec, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == f"{BUCKET}/serving/lexflow"


def test_schema_is_read_from_the_image(compiled):
    assert _string_param(compiled["spec"], "ImportSchemaGen", "schema_file") == "/pipeline/schema/demo/schema.pbtxt"
    assert (REPO / "schema/demo/schema.pbtxt").is_file()  # what the image copies to that path


def test_what_the_compiler_prints_is_what_the_spec_holds(compiled):
    spec, output = compiled["spec"], compiled["results"]["yaml"].output
    schema = _string_param(spec, "ImportSchemaGen", "schema_file")
    pattern = f"{_string_param(spec, 'ExampleGen', 'input_base')}/{_string_param(spec, 'ExampleGen', 'input_pattern')}"
    assert f"schema: {schema} (in the image)  input: {pattern}\n" in output
    assert f"give {BUCKET}/root when you create the run" in output
    assert f"pipeline root: {BUCKET}/root (in the PipelineJob's runtimeConfig)" in compiled["results"]["json"].output


def test_config_file_schema_option_portable_runner_and_no_cache(compiled):
    spec = compiled["variant"]
    assert spec["defaultPipelineRoot"] == "s3://other/root"
    assert _string_param(spec, "ExampleGen", "input_base") == "gs://other/contracts"
    destination = json.loads(_string_param(spec, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == "gs://other/serving/clauses"
    assert json.loads(_string_param(spec, "Trainer", "train_args"))["num_steps"] == 7
    assert _string_param(spec, "ImportSchemaGen", "schema_file") == "/opt/lexflow/schema/demo/schema.pbtxt"
    assert "--job_endpoint=flink-jobserver:8099" in _executor(spec, "Transform")["container"]["args"]
    assert not any(task.get("cachingOptions", {}).get("enableCache") for task in _tasks(spec).values())
    assert "note: beam runner PortableRunner: its workers read and write the tasks' artifacts" in (
        compiled["results"]["variant"].output
    )


# --- on a cluster: shared volumes, Secret variables, any dataset's name, caching, Beam workers ------------


def test_every_task_mounts_the_shared_volumes_and_gets_the_secret_variables(compiled):
    """The platform spec, as the KFP SDK and kfp-kubernetes write it and every KFP 2.x backend reads it."""
    from google.protobuf import json_format
    from kfp.client import client
    from kfp.kubernetes import kubernetes_executor_config_pb2 as k8s

    from pipeline.config import PipelineConfig

    spec, platform = compiled["cluster"]
    declared = PipelineConfig.load(CLUSTER_CONFIG).kubeflow
    assert declared.volumes, "the shipped config declares the shared volumes"
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert set(executors) == set(spec["deploymentSpec"]["executors"])  # every task, nothing else
    for label, config in executors.items():
        # kfp-kubernetes 1.0.0's message holds exactly the fields the KFP 2.0 driver parses (strictly).
        message = json_format.ParseDict(config, k8s.KubernetesExecutorConfig(), ignore_unknown_fields=False)
        mounts = {(m.constant, m.mount_path) for m in message.pvc_mount}
        assert mounts == {(v.claim, v.mount_path) for v in declared.volumes}, label
        variables = {(s.secret_name, e.secret_key, e.env_var) for s in message.secret_as_env for e in s.key_to_env}
        assert variables == {(s.secret, k, v) for s in declared.secrets_as_env for k, v in s.env.items()}, label
    # What kfp.Client uploads: both documents, the platform spec parsed strictly.
    document = client._extract_pipeline_yaml(str(compiled["paths"]["cluster"]))
    assert set(document.platform_spec.platforms) == {"kubernetes"}
    assert document.pipeline_spec.pipeline_info.name == "cuad-clauses"
    # Without volumes or Secrets there is no second document (as the KFP SDK writes it).
    assert len(list(yaml.safe_load_all(compiled["paths"]["yaml"].read_text()))) == 1


def test_any_dataset_name_compiles_to_a_name_kubeflow_takes(compiled):
    spec, _ = compiled["cluster"]
    assert spec["pipelineInfo"]["name"] == "cuad-clauses"  # TFX and the KFP API server: [a-z0-9][a-z0-9-]*
    assert "pipeline name: cuad-clauses (Kubeflow's spelling of cuad_clauses)" in compiled["results"]["cluster"].output
    # The model keeps its name: the gateway serves <serving dir>/cuad_clauses, the curated schema is found.
    destination = json.loads(_string_param(spec, "Pusher", "push_destination"))
    assert destination["filesystem"]["base_directory"] == "/models/cuad_clauses"
    assert _string_param(spec, "ImportSchemaGen", "schema_file") == "/pipeline/schema/cuad_clauses/schema.pbtxt"
    assert _string_param(spec, "ExampleGen", "input_base") == "/data/cuad_clauses"
    from pipeline.config import kubeflow_pipeline_name

    assert kubeflow_pipeline_name("Unfair_ToS.EN") == "unfair-tos-en" and kubeflow_pipeline_name("_-_") == ""


def test_tasks_that_read_or_write_outside_their_inputs_never_come_from_the_cache(compiled):
    """ExampleGen, ProductionBaseline and the Pusher: no cachingOptions, and the run's id in their cache key,
    so even caching forced on at submission (kfp.Client's enable_caching=True) runs them again."""
    from google.protobuf import json_format
    from kfp.client import client
    from kfp.pipeline_spec import pipeline_spec_pb2

    from lexflow.runs.kubeflow.executor_input import RUN_PARAMETER
    from pipeline.pipeline import RUN_EVERY_TIME
    from tests.e2e.kfp_backend import KfpRun

    spec = compiled["spec"]
    caching = {name: task.get("cachingOptions", {}).get("enableCache", False) for name, task in _tasks(spec).items()}
    assert caching == {name: name not in RUN_EVERY_TIME for name in CONTAINER_TASKS}
    for name in RUN_EVERY_TIME:
        assert _params(spec, name)[RUN_PARAMETER] == "{{$.pipeline_job_uuid}}"  # the KFP driver's run id (2.5+)
    # What kfp.Client does with enable_caching=True, then the cache keys two runs of that spec get.
    forced = json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    client._override_caching_options(forced, True)
    forced = json_format.MessageToDict(forced)
    assert all(task["cachingOptions"]["enableCache"] for task in _tasks(forced).values())
    first, second = (KfpRun(forced, pipeline_root="minio://b/root", workdir=Path("/nonexistent")) for _ in "12")
    for name in ("ExampleGen", "ImportSchemaGen"):  # no input artifacts: their keys are computable up front
        keys = {run._fingerprint(name, run.executor_input(name)) for run in (first, second)}
        assert len(keys) == (2 if name in RUN_EVERY_TIME else 1), name


def test_an_edited_schema_changes_import_schema_gens_cache_key(tmp_path, monkeypatch):
    """The image rebuilt with an edited schema/ and the pipeline recompiled: same in-image path, new key."""
    import core.workspace
    from lexflow.runs.kubeflow.compile import compile_pipeline
    from pipeline.config import PipelineConfig
    from tests.e2e.kfp_backend import KfpRun

    project = tmp_path / "project"  # stands in for the checkout the image is built from
    schema = project / "schema" / "demo" / "schema.pbtxt"
    schema.parent.mkdir(parents=True)
    schema.write_text((REPO / "schema/demo/schema.pbtxt").read_text())
    monkeypatch.setattr(core.workspace, "PROJECT_ROOT", project)
    config = PipelineConfig.load(
        None, pipeline_root=f"{BUCKET}/root", data_root=f"{BUCKET}/data/demo", serving_dir=f"{BUCKET}/serving"
    ).model_copy(update={"schema_path": schema})
    keys, files = [], []
    for edit in ("", "\n# optional column `source` added\n"):
        schema.write_text(schema.read_text() + edit)
        compile_pipeline(config, IMAGE, tmp_path / "p.yaml")
        spec = yaml.safe_load((tmp_path / "p.yaml").read_text())
        files.append(_string_param(spec, "ImportSchemaGen", "schema_file"))
        run = KfpRun(spec, pipeline_root="minio://b/root", workdir=tmp_path, enable_caching=True)
        keys.append(run._fingerprint("ImportSchemaGen", run.executor_input("ImportSchemaGen")))
    assert files[0] == files[1] == "/pipeline/schema/demo/schema.pbtxt"
    assert keys[0] != keys[1]


def test_the_compiler_warns_on_a_movable_image_tag_and_names_the_enable_caching_pitfall(compiled):
    tagged, digest = compiled["results"]["yaml"].output, compiled["results"]["cluster"].output
    assert f"warning: image {IMAGE} is a tag" in tagged and "registry.example.com/lexflow@sha256:..." in tagged
    assert "warning:" not in digest
    for output in (tagged, digest):
        assert "note: caching: do not force it on for a run (enable_caching=True" in output


def test_direct_runner_workers_follow_each_tasks_limits(compiled):
    from pipeline.config import BeamParams, ResourceParams

    spec, _ = compiled["cluster"]
    resources = ResourceParams()
    for task in CONTAINER_TASKS:
        args = _executor(spec, task)["container"]["args"]
        (workers,) = [int(a.split("=")[1]) for a in args if a.startswith("--direct_num_workers=")]
        limits = resources.for_node(task)
        # Not the node's cores (0): at most the pod's CPU limit and memory limit / worker_memory_gb.
        assert workers == max(
            1, min(int(limits.cpu_limit), int(limits.memory_limit_gb / BeamParams().worker_memory_gb))
        )
    assert _executor(spec, "Transform")["container"]["args"].count("--direct_num_workers=2") == 1
    assert "--direct_num_workers=1" in _executor(spec, "StatisticsGen")["container"]["args"]
    beam = BeamParams(direct_num_workers=3, worker_memory_gb=1.0)
    big = resources.trainer.model_copy(update={"cpu_limit": 8.0, "memory_limit_gb": 32.0})
    assert beam.workers_for(big) == 3 and beam.workers_for(resources.default) == 1  # asked for, within the limits
    assert BeamParams(worker_memory_gb=3.0).workers_for(big) == 8


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
        (lambda a: _replace(a, "--data-root", "s3://b/data/demo"), "--data-root s3://b/data/demo: the pods open it"),
        (
            lambda a: _replace(a, "--serving-dir", "minio://b/serving"),
            "not s3:// or minio://: put it on a ReadWriteMany",
        ),
        (
            lambda a: _replace(a, "--data-root", "/data/demo"),
            "--data-root /data/demo is a path inside the pods but on no",
        ),
        (
            lambda a: _replace(a, "--serving-dir", "/models"),
            "--model-base-dir /models is a path inside the pods but on no",
        ),
        (
            lambda a: [*a, "--beam-arg=--runner=FlinkRunner"],
            "beam runner FlinkRunner without --job_endpoint would start",
        ),
        (lambda a: [*a, "--beam-arg=--runner=SparkRunner"], "run Beam's Spark job server next to your Spark master"),
        (
            lambda a: [x for x in a if not x.startswith("--beam-arg=--sdk_container_image")],
            "beam runner DataflowRunner without the workers' image",
        ),
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


DATA_VOLUME = {"claim": "lexflow-data", "mount_path": "/data"}


@pytest.mark.parametrize(
    "settings, output, message",
    [
        (
            {"kubeflow": {"volumes": [{"claim": "scratch", "mount_path": "/minio"}]}},
            "out.yaml",
            "config: kubeflow.volumes.0.mount_path: /minio: the KFP launcher mounts its own volumes",
        ),
        (
            {"kubeflow": {"volumes": [DATA_VOLUME, {**DATA_VOLUME, "mount_path": "/data2"}]}},
            "out.yaml",
            "claim lexflow-data given twice",
        ),
        (
            {"kubeflow": {"volumes": [{"claim": "code", "mount_path": "/"}]}},
            "out.yaml",
            "kubeflow.volumes.0.mount_path: /: an absolute path inside the pods, not /",
        ),
        (
            {"kubeflow": {"volumes": [{"claim": "code", "mount_path": "/pipeline/data"}]}},
            "out.yaml",
            "code at /pipeline/data would hide or overlay the project in the image (/pipeline)",
        ),
        ({"kubeflow": {"volumes": [DATA_VOLUME]}}, "out.json", "the .json PipelineJob (Vertex AI) carries none"),
        ({"pipeline_name": "___"}, "out.yaml", "pipeline name '___' has no letter or digit"),
    ],
    ids=["reserved-path", "claim-twice", "root", "hides-code", "vertex", "no-name"],
)
def test_bad_kubeflow_settings_are_one_error_line(tmp_path, settings, output, message):
    config = tmp_path / "kfp.yaml"
    config.write_text(yaml.safe_dump(settings))
    result = _invoke([*_main_args(tmp_path / output), "--config", str(config)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert not (tmp_path / output).exists()


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


# --- the documented commands work verbatim once their placeholders are filled -----------------------------

PLACEHOLDERS = {  # what a user types for each placeholder of README.md and docs/kubeflow.md
    "REGISTRY": "registry.example.com/team",
    "PROJECT": "my-project",
    "BUCKET": "my-bucket",
    "REGION": "europe-west1",
    "JOB_SERVER_HOST": "flink-jobserver",
    "DIGEST": "5f" * 32,
}
RUNNER_COMMAND = re.compile(r"^(?:\.venv/bin/)?python kubeflow_runner\.py\b")


def documented_commands():
    """Every `kubeflow_runner.py` command in the fenced blocks of the user-facing docs: (doc, words)."""
    found = []
    for doc in ("README.md", "docs/kubeflow.md"):
        text = (REPO / doc).read_text(encoding="utf-8")
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S):
            for line in block.replace("\\\n", " ").splitlines():
                command = line.split(" && ")[-1].strip()  # `docker build ... && docker push ...` holds none
                if RUNNER_COMMAND.match(command):
                    found.append((doc, command))
    return found


def test_the_docs_document_the_compile_command_and_both_distributed_runners():
    commands = documented_commands()
    assert {doc for doc, _ in commands} == {"README.md", "docs/kubeflow.md"}
    assert any("DataflowRunner" in c for _, c in commands) and any("PortableRunner" in c for _, c in commands)


@pytest.mark.parametrize("doc, command", documented_commands(), ids=lambda v: v if len(v) < 20 else None)
def test_documented_command_compiles(doc, command, tmp_path, monkeypatch):
    filled = command
    for placeholder, value in PLACEHOLDERS.items():
        filled = re.sub(rf"\b{placeholder}\b", value, filled)
    left = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", filled)) - {"DOCKER", "EXTERNAL"}  # Beam option values
    assert not left, f"placeholders without a value: {left}"
    words = shlex.split(filled)
    args = words[words.index("kubeflow_runner.py") + 1 :]
    if "--config" in args:  # a file of this project, named from the repository root where the docs run
        args[args.index("--config") + 1] = str(REPO / args[args.index("--config") + 1])
    monkeypatch.chdir(tmp_path)  # relative --output lands here, as in the user's working directory
    result = _invoke(args)
    assert result.exit_code == 0, f"{doc}: {command}\n{result.output}"
    output = tmp_path / args[args.index("--output" if "--output" in args else "-o") + 1]
    if output.suffix == ".json":
        spec = json.loads(output.read_text())["pipelineSpec"]
    else:
        spec, *platform = yaml.safe_load_all(output.read_text())
        assert bool(platform) == ("--config" in args), "the shipped config's volumes are the second document"
    pattern = f"{_string_param(spec, 'ExampleGen', 'input_base')}/{_string_param(spec, 'ExampleGen', 'input_pattern')}"
    assert f"input: {pattern}" in result.output  # what it prints is what the spec reads
    assert _string_param(spec, "ExampleGen", "input_base").startswith(("gs://my-bucket/", "/data/"))
    if not any(arg.startswith("--beam-arg=--runner") for arg in args):
        # In-pod DirectRunner: the image is the "worker" image, so TFX builds no sdist of itself per Beam task.
        from tfx.utils import dependency_utils

        image = args[args.index("--image") + 1]
        beam_args = _executor(spec, "Transform")["container"]["args"][6:]
        assert f"--sdk_container_image={image}" in beam_args
        assert dependency_utils.make_beam_dependency_flags(beam_args) == beam_args


def test_train_steps_need_the_search_off_and_an_encoder_is_refused(tmp_path):
    """--train-steps would be ignored by the model search, and a local checkpoint is no path in the pods."""
    result = _invoke(_main_args(tmp_path / "a.yaml", "--train-steps", "123"))
    assert result.exit_code == 2 and "--train-steps 123: the model search sizes its own steps" in result.output
    result = _invoke(_main_args(tmp_path / "b.yaml", "--no-search", "--train-steps", "123"))
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((tmp_path / "b.yaml").read_text())
    assert "ModelSearch" not in spec["root"]["dag"]["tasks"]
    assert json.loads(_string_param(spec, "Trainer", "custom_config"))["train"]["train_steps"] == 123
    assert json.loads(_string_param(spec, "Trainer", "train_args"))["num_steps"] == 123

    from tests.trainer.encoder.tiny_bert import write_tiny_bert

    config = tmp_path / "encoder.yaml"
    config.write_text(yaml.safe_dump({"encoder": {"checkpoint": str(write_tiny_bert(tmp_path / "bert"))}}))
    result = _invoke(_main_args(tmp_path / "c.yaml", "--config", str(config)))
    assert result.exit_code == 2 and "Kubeflow runs take no encoder yet" in result.output
    assert not (tmp_path / "c.yaml").exists()
