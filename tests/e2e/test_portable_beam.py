"""The pipeline's Beam components on Beam's portable runner, against a job service and an SDK worker pool in
processes of their own, give what the DirectRunner gave.

That is the Fn API setup Flink and Spark use with Python workers on Kubernetes (docs/kubeflow.md §5): the
task submits each Beam job to a job server (`--job_endpoint`), which runs it and asks a worker pool
(`--environment_type=EXTERNAL --environment_config=HOST:PORT`, the sidecar beside each Flink TaskManager) to
start SDK workers that run the Python DoFns. Here Beam's own job service
(`apache_beam.runners.portability.local_job_service_main`) stands in for the Flink job server and Beam's
worker pool (`apache_beam.runners.worker.worker_pool_main`, which starts each SDK worker as a new `python`
process) for the sidecar; the Beam arguments are the Flink recipe's, from the doc, with these endpoints.

StatisticsGen, Transform and the Evaluator of the suite's DirectRunner pipeline run (tests/conftest.py
`pipeline_run`) run again through their executors on exactly the inputs and execution properties ML
Metadata recorded for them; their outputs must match: statistics, vocabularies, transformed examples,
metrics and the blessing. No TFX build folder may be left in the temporary directory.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]
REPO = Path(__file__).resolve().parents[2]
COMPONENTS = ("StatisticsGen", "Transform", "Evaluator")


def flink_recipe_beam_args(doc: Path = REPO / "docs/kubeflow.md") -> list[str]:
    """The `--beam-arg`s of the doc's compile command with an EXTERNAL worker pool (the Flink recipe)."""
    for block in re.findall(r"```[a-z]*\n(.*?)```", doc.read_text(encoding="utf-8"), flags=re.S):
        words = shlex.split(block.replace("\\\n", " "))
        args = [w.removeprefix("--beam-arg=") for w in words if w.startswith("--beam-arg=")]
        if "--environment_type=EXTERNAL" in args:
            return args
    raise AssertionError(f"no compile command with --environment_type=EXTERNAL in {doc}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, log: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            socket.create_connection(("localhost", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def beam_services(tmp_path_factory):
    """A job service and a worker pool, each its own process; the pool's `python` is this environment's,
    with the project importable, as the pipeline image gives the sidecar."""
    root = tmp_path_factory.mktemp("beam-services")
    tmp = root / "tmp"
    tmp.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(REPO),
        "TF_USE_LEGACY_KERAS": "1",
        "TMPDIR": str(tmp),
    }
    job_port, pool_port = _free_port(), _free_port()
    commands = {
        "job-service": [
            "apache_beam.runners.portability.local_job_service_main",
            f"--port={job_port}",
            f"--staging_dir={root / 'staging'}",
        ],
        "worker-pool": ["apache_beam.runners.worker.worker_pool_main", f"--service_port={pool_port}"],
    }
    processes, logs = {}, {}
    try:
        for name, (module, *args) in commands.items():
            logs[name] = root / f"{name}.log"
            with logs[name].open("w") as log:
                processes[name] = subprocess.Popen(
                    [sys.executable, "-m", module, *args], env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT
                )
        _wait_for(job_port, processes["job-service"], logs["job-service"])
        _wait_for(pool_port, processes["worker-pool"], logs["worker-pool"])
        yield {"job_port": job_port, "pool_port": pool_port, "logs": logs, "tmp": tmp}
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _portable_args(services) -> list[str]:
    endpoints = {
        "--job_endpoint": f"localhost:{services['job_port']}",
        "--environment_config": f"localhost:{services['pool_port']}",
    }
    args = []
    for arg in flink_recipe_beam_args():
        name, _, value = arg.partition("=")
        args.append(f"{name}={endpoints.get(name, value)}")
    return args


@pytest.fixture(scope="module")
def portable_run(pipeline_run, beam_services, tmp_path_factory):
    """The three components' executors again, on the recorded inputs, through the portable runner."""
    from tfx.dsl.components.base.base_beam_executor import BaseBeamExecutor
    from tfx.orchestration import data_types_utils
    from tfx.types import artifact_utils

    from lexflow.metadata import store as md
    from pipeline.pipeline import create_components

    out = tmp_path_factory.mktemp("portable")
    config = pipeline_run.config
    store = md.open_store(config.metadata_path)
    nodes = {node.id: node for node in create_components(config)}
    executions = {c.component: c.execution for c in pipeline_run.summary.components}
    args = _portable_args(beam_services)

    def artifacts(recorded):
        types = {t.id: t for t in store.get_artifact_types_by_id(list({a.type_id for a in recorded}))}
        return [artifact_utils.deserialize_artifact(types[a.type_id], a) for a in recorded]

    recorded, outputs, seconds = {}, {}, {}
    saved_argv, saved_tmp = sys.argv, tempfile.tempdir
    # TFX's Beam executors parse sys.argv with absl (pytest's own options would collide); TFX would build
    # its package under the temporary directory: a private one, to count what is left there.
    sys.argv, tempfile.tempdir = saved_argv[:1], str(beam_services["tmp"])
    try:
        for name in COMPONENTS:
            execution = executions[name]
            inputs = {k: artifacts(v) for k, v in md.input_artifacts_by_key(store, execution.id).items()}
            properties = {k: data_types_utils.get_metadata_value(v) for k, v in execution.custom_properties.items()}
            outputs[name] = {}
            for key, channel in nodes[name].outputs.items():
                artifact = channel.type()
                artifact.uri = str(out / name / key)
                Path(artifact.uri).mkdir(parents=True)
                outputs[name][key] = [artifact]
            recorded[name] = {key: Path(md.output_artifacts(store, execution.id, key)[0].uri) for key in outputs[name]}
            context = BaseBeamExecutor.Context(beam_pipeline_args=list(args), tmp_dir=str(out / name / ".temp"))
            started = time.monotonic()
            nodes[name].executor_spec.executor_class(context).Do(inputs, outputs[name], properties)
            seconds[name] = round(time.monotonic() - started, 1)
    finally:
        sys.argv, tempfile.tempdir = saved_argv, saved_tmp
    print(f"\nportable runner: {seconds} s")
    return {
        "direct": recorded,
        "portable": {n: {k: Path(a.uri) for k, [a] in o.items()} for n, o in outputs.items()},
        "args": args,
        **beam_services,
    }


def test_every_component_ran_as_jobs_of_the_job_service_in_pool_workers(portable_run):
    args = portable_run["args"]
    assert "--runner=PortableRunner" in args and "--environment_type=EXTERNAL" in args
    assert any(a.startswith("--sdk_container_image=") for a in args)  # the workers' image, as the recipe says
    jobs = portable_run["logs"]["job-service"].read_text()
    workers = portable_run["logs"]["worker-pool"].read_text()
    # At least one Beam job per component went through the job service, each run by SDK worker processes
    # that the pool started (its own `python -c ... SdkHarness(...)`), none in this process.
    assert len(re.findall(r"Completed job in [\d.]+ seconds with state DONE", jobs)) >= len(COMPONENTS)
    assert "FAILED" not in jobs
    assert len(re.findall(r"Starting worker with command", workers)) >= len(COMPONENTS)
    # TFX found the workers' image among the arguments, so it packaged nothing (tfx_ephemeral, build/tfx).
    assert not list(portable_run["tmp"].rglob("build"))


def test_statistics_match_the_direct_runners(portable_run):
    import tensorflow_data_validation as tfdv

    direct = portable_run["direct"]["StatisticsGen"]["statistics"]
    portable = portable_run["portable"]["StatisticsGen"]["statistics"]
    splits = sorted(p.name for p in direct.iterdir() if p.name.startswith("Split-"))
    assert splits == ["Split-eval", "Split-train", "Split-validation"]
    for split in splits:
        expected = _by_feature(tfdv.load_stats_binary(str(direct / split / "FeatureStats.pb")))
        assert _by_feature(tfdv.load_stats_binary(str(portable / split / "FeatureStats.pb"))) == expected, split


def _by_feature(stats):
    """The statistics with each dataset's features in name order: the order TFDV lists them in follows
    the runner's bundles (the session run's `document` column came first on one runner, last on the other)."""
    for dataset in stats.datasets:
        features = sorted(dataset.features, key=lambda f: list(f.path.step))
        del dataset.features[:]
        dataset.features.extend(features)
    return stats


def _examples(folder: Path) -> list[bytes]:
    """A split's tf.Examples, canonically serialized and sorted: the order of records and of features in a
    record's map is not part of the result."""
    import tensorflow as tf

    records = []
    for path in sorted(folder.glob("*.gz")):
        for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
            records.append(tf.train.Example.FromString(record.numpy()).SerializeToString(deterministic=True))
    return sorted(records)


def test_transform_matches_the_direct_runners(portable_run):
    direct, portable = portable_run["direct"]["Transform"], portable_run["portable"]["Transform"]
    # The analyzers' results: vocabularies (assets) and the transformed schema.
    assets = sorted(p.name for p in (direct["transform_graph"] / "transform_fn" / "assets").iterdir())
    assert assets
    for name in assets:
        expected = (direct["transform_graph"] / "transform_fn" / "assets" / name).read_bytes()
        assert (portable["transform_graph"] / "transform_fn" / "assets" / name).read_bytes() == expected, name
    schema = "transformed_metadata/schema.pbtxt"
    assert (portable["transform_graph"] / schema).read_text() == (direct["transform_graph"] / schema).read_text()
    for split in ("Split-train", "Split-eval"):
        expected = _examples(direct["transformed_examples"] / split)
        assert expected and _examples(portable["transformed_examples"] / split) == expected, split


def test_evaluation_and_blessing_match_the_direct_runners(portable_run):
    import tensorflow_model_analysis as tfma

    direct, portable = portable_run["direct"]["Evaluator"], portable_run["portable"]["Evaluator"]

    def metrics(folder: Path) -> list[bytes]:
        return sorted(m.SerializeToString(deterministic=True) for m in tfma.load_metrics(str(folder)))

    expected = metrics(direct["evaluation"])
    assert expected and metrics(portable["evaluation"]) == expected  # every slice, every metric, bit for bit
    validation = tfma.load_validation_result(str(portable["evaluation"]))
    assert validation.validation_ok == tfma.load_validation_result(str(direct["evaluation"])).validation_ok
    assert sorted(p.name for p in portable["blessing"].iterdir()) == sorted(
        p.name for p in direct["blessing"].iterdir()
    )
