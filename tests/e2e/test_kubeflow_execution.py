"""The pipeline a user uploads to Kubeflow Pipelines, executed task by task as the KFP v2 backend runs it.

The YAML is written by docs/kubeflow.md's compile command, run as documented (`python kubeflow_runner.py`)
with its placeholders filled. tests/e2e/kfp_backend.py then plays KFP's Go driver and launcher
(kubeflow/pipelines `backend/src/v2`, tag 2.17.0; the functions it mirrors are named there):
driver/resolve.go `resolveInputs`, `resolveInputArtifact`, `resolveUpstreamArtifacts`;
driver/driver.go `provisionOutputs`; driver/cache.go `getFingerPrintsAndID` with cacheutils/cache.go
`GenerateCacheKey`; metadata/converter.go `toMLMDArtifact` / `toRuntimeArtifact`; metadata/client.go
`RecordArtifact`, `GetOutputArtifactsByExecutionId`, `GenerateOutputURI`; component/launcher_v2.go
`addDefaultParams`, `compileCmdAndArgs`, `getPlaceholders`, `downloadArtifacts`, `prepareOutputFolders`,
`getExecutorOutputFile`, `uploadOutputArtifacts`, `mergeRuntimeArtifacts`, `LocalPathForURI`;
compiler/argocompiler/dag.go `depends`. Every task runs in a fresh process with the exact container
command and arguments of the spec (the pipeline image's entry point, lexflow.runs.kubeflow.entrypoint,
around TFX's own; forked from a process that imported the stack once, tests/e2e/pod_zygote.py, except
one task per run that is exec'd) and the ExecutorInput the driver builds: untyped input artifacts with URIs and
metadata from the upstream outputs after the ML Metadata round trip, output URIs under the run's root
`minio://mlpipeline/v2/artifacts/lexflow/<run-id>/<task>/<uuid>/<key>`, the `executor-logs` output,
`parameterValues` only.

Locations: the pipeline root is KFP's default MinIO bucket; the store is a folder and each pod gets a
fresh local root where a real pod has /minio/..., and a fresh TMPDIR. The data root and the serving dir are
in-pod paths on the two shared volumes of the documented `--config` (deploy/kubeflow/pipeline-config.yaml):
here each claim is a local folder that every pod "mounts" where it is, and the compiled platform spec must
mount both on every task. The image is this checkout (`--image-project-root`, where the image has /pipeline)
and this interpreter.

Two runs share one "cache server": the first blesses and pushes a model that answers raw text; the second,
compiled with one training step and no absolute bar and submitted with caching forced on (kfp.Client's
`enable_caching=True`), starts while the first is still running, sees a new span (ExampleGen carries the
run's id, so even forced caching runs it), reuses ImportSchemaGen from the cache, finds the first model in
the serving dir as its baseline once the first run has pushed it (ProductionBaseline runs again too), and is
refused against it. No pod leaves a TFX build folder in its /tmp.
What this cannot show is listed in docs/kubeflow.md ("What the execution test covers").
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from datagen import generate_rows, write_csv
from tests.e2e.kfp_backend import BASE_MODULES, ForkedPods, KfpRun, image_env, preload_modules

# Two whole pipeline runs (23 tasks, two trainings) in one fixture: about 5 minutes on 2 cores, part of
# `make test` (CI); `make test-kubeflow` runs only this. The timeout leaves room for a loaded machine.
pytestmark = [pytest.mark.e2e, pytest.mark.kfp, pytest.mark.timeout(5400)]
REPO = Path(__file__).resolve().parents[2]
PIPELINE_ROOT = "minio://mlpipeline/v2/artifacts"  # KFP's default root (config/env.go)
# Sized for CI: a few hundred rows, few steps; the first model must clear these bars on its own.
SMALL = {
    "transform": {"vocab_size": 5000},
    "train": {"train_steps": 150, "eval_steps": 5, "hidden_units": 64},
    "thresholds": {"min_accuracy": 0.5, "min_macro_f1": 0.4},
    # One Beam worker per task: a pod's Beam otherwise splits each stage over as many threads as the node
    # has cores, and here two runs' tasks already share the cores.
    "beam": {"direct_num_workers": 1},
}
# One step and no absolute bar: only the comparison with the model in production can refuse it. No model
# search, which would choose its own steps.
WORSE = {
    **SMALL,
    "train": {**SMALL["train"], "train_steps": 1},
    "thresholds": {"min_accuracy": 0, "min_macro_f1": 0},
    "tuning": {"enabled": False},
}


def documented_compile_command(doc: Path = REPO / "docs/kubeflow.md") -> list[str]:
    """The first `python kubeflow_runner.py` command of the doc's fenced blocks, as words."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S):
        text = block.replace("\\\n", " ")
        for line in text.splitlines():
            if line.strip().startswith("python kubeflow_runner.py"):
                return shlex.split(line)
    raise AssertionError(f"no `python kubeflow_runner.py` command in {doc}")


def _fill(word: str, fills: dict[str, str]) -> str:
    for placeholder in sorted(fills, key=len, reverse=True):  # longest first: REGISTRY/... before REGISTRY
        word = word.replace(placeholder, fills[placeholder])
    return word


def compile_as_documented(workdir: Path, claims: dict[str, Path], config: dict) -> tuple[dict, dict]:
    """Run the documented command with its placeholders filled and the shipped `--config` made to mount the
    claims' local folders; return the YAML's two documents (pipeline spec, platform spec)."""
    workdir.mkdir(parents=True)
    words = documented_compile_command()
    shipped = words[words.index("--config") + 1]
    settings = yaml.safe_load((REPO / shipped).read_text())
    volumes = settings["kubeflow"]["volumes"]
    mounts = {v["mount_path"]: str(claims[v["claim"]]) for v in volumes}  # /data -> the claim's folder
    for volume in volumes:
        volume["mount_path"] = mounts[volume["mount_path"]]
    (workdir / "small.yaml").write_text(yaml.safe_dump({**settings, **config}))
    fills = {"REGISTRY": "registry.example.com/lexflow", "DIGEST": "5f" * 32, shipped: "small.yaml"}
    filled = []
    for word in words:
        # In-pod paths (/data/demo, /models) on a volume: the same path under that claim's folder.
        mount = next((m for m in mounts if word == m or word.startswith(m + "/")), None)
        filled.append(mounts[mount] + word[len(mount) :] if mount else _fill(word, fills))
    assert filled[:2] == ["python", "kubeflow_runner.py"]
    command = [sys.executable, str(REPO / "kubeflow_runner.py"), *filled[2:], "--image-project-root", str(REPO)]
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    output = words[words.index("--output") + 1]
    spec, platform = yaml.safe_load_all((workdir / output).read_text())
    return spec, platform


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("kfp")
    claims = {"lexflow-data": root / "volumes" / "data", "lexflow-models": root / "volumes" / "models"}
    data, serving = claims["lexflow-data"] / "demo", claims["lexflow-models"]
    serving.mkdir(parents=True)
    write_csv(data / "span-0" / "corpus.csv", generate_rows(400, seed=11))
    started = time.monotonic()
    cache: dict = {}
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}  # the image: the project importable
    (root / "zygote").mkdir()
    # Most tasks start forked from a process that imported the stack once (it starts importing while the
    # YAML compiles); one task of each run is exec'd exactly as the container command says, to cover a real
    # start too (in the second run one that runs alongside others: its last tasks wait for the first run).
    pods = ForkedPods({**image_env(), **env, "HOME": str(root / "zygote")}, BASE_MODULES)
    compiler = ThreadPoolExecutor(1)
    # The second run's YAML is needed only once the first run has begun.
    worse_spec = compiler.submit(compile_as_documented, root / "c2", claims, WORSE)
    compiler.shutdown(wait=False)
    try:
        spec, platform = compile_as_documented(root / "c1", claims, SMALL)
    except BaseException:
        pods.close()
        raise
    compiled_s = time.monotonic() - started
    pods.preload(preload_modules(spec))
    on_cluster = {"platform": platform, "claims": claims}
    first = KfpRun(
        spec, pipeline_root=PIPELINE_ROOT, workdir=root, cache=cache, pods=pods, exec_tasks=("DataGate",), **on_cluster
    )
    first_done = threading.Event()

    def hold_baseline(name: str) -> None:
        if name == "ProductionBaseline":
            first_done.wait()  # the model in production is the first run's, once pushed

    def run_second() -> KfpRun:
        spec, platform = worse_spec.result()
        second = KfpRun(
            spec,
            pipeline_root=PIPELINE_ROOT,
            workdir=root,
            cache=cache,
            pods=pods,
            exec_tasks=("DriftCheck",),
            platform=platform,
            claims=claims,
            enable_caching=True,  # as kfp.Client(...).create_run_from_pipeline_package(..., enable_caching=True)
        )
        while not {"ExampleGen", "ImportSchemaGen"} <= set(first.tasks):
            time.sleep(1)
        # New feedback arrives after the first run read its data.
        write_csv(data / "span-1" / "corpus.csv", generate_rows(150, seed=5))
        second.execute(env, before=hold_baseline)
        return second

    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(run_second)
        try:
            first.execute(env)
        finally:
            first_done.set()
        second = later.result()
    pods.close()
    seconds = {
        f"{run}:{t.name}{'(exec)' if t.exec else ''}{'(cached)' if t.cached else ''}": round(t.seconds, 1)
        for run, r in (("1", first), ("2", second))
        for t in r.tasks.values()
    }
    print(f"\ncompile {compiled_s:.0f}s, total {time.monotonic() - started:.0f}s, tasks: {seconds}")
    return first, second, serving / "lexflow", root


def _meta(run: KfpRun, task: str, key: str) -> dict:
    return run.tasks[task].outputs[key].custom_properties


def test_every_task_ran_as_kfp_runs_it(two_runs):
    first, second, _, _ = two_runs
    assert set(first.tasks) == set(first.spec["root"]["dag"]["tasks"]) and not any(
        t.cached for t in first.tasks.values()
    )
    evaluator = first.tasks["Evaluator"].executor_input
    # What TFX's own entry point cannot parse: it went through the image's entry point.
    assert {a["artifacts"][0]["type"]["instanceSchema"] for a in evaluator["inputs"]["artifacts"].values()} == {""}
    assert "executor-logs" in evaluator["outputs"]["artifacts"]
    assert first.tasks["Evaluator"].command[:3] == ["python", "-m", "lexflow.runs.kubeflow.entrypoint"]
    assert first.tasks["DataGate"].exec and second.tasks["DriftCheck"].exec  # `python -m ...` as given
    for task in first.tasks.values():
        for key, artifact in task.outputs.items():
            assert artifact.uri.startswith(f"{first.run_root}/{task.name}/"), (task.name, key, artifact.uri)
    # Recorded metadata holds bucket URIs, never a pod's local path.
    blessing = _meta(first, "Evaluator", "blessing")
    assert blessing["current_model"].startswith(first.tasks["Trainer"].outputs["model"].uri)
    assert "/pods/" not in json.dumps(
        {t: {k: a.custom_properties for k, a in r.outputs.items()} for t, r in first.tasks.items()}
    )


def test_every_pod_mounted_the_shared_volumes_and_left_no_tfx_build_folder(two_runs):
    first, second, _, root = two_runs
    for run in (first, second):
        # The platform spec covers every executor with both claims (a pod without them fails in kfp_backend).
        assert set(run.kubernetes) == set(run.spec["deploymentSpec"]["executors"])
        assert all({m["constant"] for m in c["pvcMount"]} == set(run.claims) for c in run.kubernetes.values())
    # Every pod that ran had its own TMPDIR, where TFX would package itself per Beam task (tfx_ephemeral in
    # tmpXXXX/build/tfx) without a worker-dependency Beam option: none did.
    ran = [t for run in (first, second) for t in run.tasks.values() if not t.cached]
    tmp_dirs = sorted(root.glob("pods/*/*/tmp"))
    assert len(tmp_dirs) == len(ran)
    assert not [p for tmp in tmp_dirs for p in tmp.rglob("build")], "a TFX build folder was left behind"


def test_first_run_blesses_on_absolute_thresholds_and_pushes(two_runs):
    first, _, model_base, _ = two_runs
    assert _meta(first, "ProductionBaseline", "baseline_model")["found"] == 0.0  # nothing in production yet
    assert _meta(first, "Evaluator", "blessing")["blessed"] == 1.0
    pushed = _meta(first, "Pusher", "pushed_model")
    assert pushed["pushed"] == 1.0
    version_dir = model_base / pushed["pushed_version"]
    assert pushed["pushed_destination"] == str(version_dir)
    assert (version_dir / "saved_model.pb").is_file() and (version_dir / "variables").is_dir()
    # The model artifact itself is in the object store where ML Metadata says it is.
    model_uri = first.tasks["Trainer"].outputs["model"].uri
    assert list(first.stored(model_uri).rglob("saved_model.pb"))


def test_pushed_model_answers_raw_text(two_runs):
    first, _, model_base, _ = two_runs
    version = _meta(first, "Pusher", "pushed_model")["pushed_version"]
    script = r"""
import json, sys
import tensorflow as tf, tensorflow_text  # noqa: F401
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](text=tf.constant([
    "This Agreement shall be governed by and construed in accordance with the laws of the State of New York.",
    "???",
]))
print(json.dumps({k: v.numpy().tolist() for k, v in out.items()}, default=lambda b: b.decode()))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(model_base / version)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "TF_USE_LEGACY_KERAS": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["label"][0] == "governing_law"
    for scores in out["scores"]:
        assert abs(sum(scores) - 1.0) < 1e-4


def test_second_run_reads_the_new_span_and_compares_it_with_the_previous(two_runs):
    from pipeline.pipeline import RUN_EVERY_TIME

    first, second, _, _ = two_runs
    # Submitted with caching forced on for every task; still ExampleGen, ProductionBaseline and the Pusher
    # ran (the run's id is in their cache key), and ExampleGen saw span 1.
    assert all(task["cachingOptions"]["enableCache"] for task in second.spec["root"]["dag"]["tasks"].values())
    assert not any(second.tasks[name].cached for name in RUN_EVERY_TIME)
    assert _meta(second, "ExampleGen", "examples")["spans"] == "1,0"
    drift = _meta(second, "DriftCheck", "drift_report")
    assert (drift["span"], drift["baseline_span"]) == (1.0, 0.0)
    # A task whose inputs did not change is reused from the first run, as KFP's cache does.
    assert second.tasks["ImportSchemaGen"].cached
    assert second.tasks["ImportSchemaGen"].outputs["schema"].uri == first.tasks["ImportSchemaGen"].outputs["schema"].uri


def test_import_schema_gens_cache_key_holds_the_schema_content(two_runs):
    """Cached above because the schema is unchanged; an edited schema (recompiled) must be imported again:
    its content's hash is one of ImportSchemaGen's parameters, so it is in KFP's cache key."""
    first, _, _, _ = two_runs
    schema_file = Path(first.tasks["ImportSchemaGen"].executor_input["inputs"]["parameterValues"]["schema_file"])
    digest = hashlib.sha256(schema_file.read_bytes()).hexdigest()
    parameters = first.tasks["ImportSchemaGen"].executor_input["inputs"]["parameterValues"]
    assert any(digest in str(value) for value in parameters.values()), parameters


def test_worse_model_is_refused_against_the_first_and_nothing_is_pushed(two_runs):
    import tensorflow_model_analysis as tfma

    first, second, model_base, _ = two_runs
    version = _meta(first, "Pusher", "pushed_model")["pushed_version"]
    baseline = _meta(second, "ProductionBaseline", "baseline_model")
    assert baseline["found"] == 1.0 and baseline["production_version"] == float(version)
    blessing = _meta(second, "Evaluator", "blessing")
    assert blessing["blessed"] == 0.0 and f"version {version}" in blessing["note"]
    # Refused by the comparison with the baseline (the absolute bars are 0 in this run).
    validation = tfma.load_validation_result(str(second.stored(second.tasks["Evaluator"].outputs["evaluation"].uri)))
    assert not validation.validation_ok
    failed = [
        failure.metric_threshold
        for per_slice in validation.metric_validations_per_slice
        for failure in per_slice.failures
    ]
    assert failed and all(t.HasField("change_threshold") for t in failed), failed
    assert _meta(second, "Pusher", "pushed_model")["pushed"] == 0.0
    assert sorted(p.name for p in model_base.iterdir() if not p.name.startswith(".")) == [version]
