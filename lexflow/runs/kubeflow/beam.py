"""Beam arguments of the compiled tasks: which runners can start from a pod, what their workers run, and
how many DirectRunner workers each task's pod holds.

Every Beam component runs Beam in its task's pod (DirectRunner) unless `--runner=` names another. A
remote runner's workers need this project (Transform's graph imports `trainer` and uses tensorflow-text):
they run the pipeline image. Named by `--sdk_container_image`, that also keeps TFX from packaging itself
into a `tfx_ephemeral` sdist per task (tfx/utils/dependency_utils.py `make_beam_dependency_flags`), a
package without this project's code. docs/kubeflow.md §5 gives the Dataflow and Flink recipes.
"""

from __future__ import annotations

from typing import Any, Optional

from core.errors import UserError
from core.workspace import is_uri
from pipeline.config import BeamParams, ResourceParams, names_worker_dependencies

# Runners that run the work outside the task's pod, and what each cannot start without. FlinkRunner and
# SparkRunner without --job_endpoint start a Beam job server in the pod: a Java jar downloaded at run time.
_RUNNER_NEEDS = {
    "DataflowRunner": ("project", "region", "temp_location"),
    "PortableRunner": ("job_endpoint",),
    "FlinkRunner": ("job_endpoint",),
    "SparkRunner": ("job_endpoint",),
}
_JOB_SERVER = {
    "FlinkRunner": "Beam's Flink job server next to your Flink cluster (--flink-master-url=JOBMANAGER:8081)",
    "SparkRunner": "Beam's Spark job server next to your Spark master (--spark-master-url=spark://MASTER:7077)",
}
DIRECT_WORKERS = "--direct_num_workers="


def _options(args: list[str]) -> dict[str, Optional[str]]:
    options: dict[str, Optional[str]] = {}
    for arg in args:
        if not arg.startswith("--") or len(arg) < 3:
            raise UserError(f"beam arg '{arg}' is not a --option (write e.g. --beam-arg=--runner=DataflowRunner)")
        name, _, value = arg[2:].partition("=")
        options[name] = value or None
    return options


def check_beam_args(args: list[str]) -> None:
    """Fail on Beam arguments a task's pod cannot start its runner with."""
    options = _options(args)
    runner = options.get("runner") or "DirectRunner"
    missing = [f"--{name}" for name in _RUNNER_NEEDS.get(runner, ()) if not options.get(name)]
    if missing and runner in _JOB_SERVER:
        raise UserError(
            f"beam runner {runner} without --job_endpoint would start a Beam job server in every task's pod (a "
            f"Java jar downloaded at run time): run {_JOB_SERVER[runner]} and pass "
            "--beam-arg=--job_endpoint=HOST:8099 (docs/kubeflow.md §5)"
        )
    if missing:
        raise UserError(f"beam runner {runner} needs {', '.join(missing)} (pass each as --beam-arg=--NAME=VALUE)")
    if runner == "DataflowRunner" and not is_uri(options["temp_location"]):
        raise UserError(f"beam --temp_location={options['temp_location']}: Dataflow needs a gs:// location")
    if runner != "DirectRunner" and not names_worker_dependencies(args):
        raise UserError(
            f"beam runner {runner} without the workers' image: add --beam-arg=--sdk_container_image=IMAGE with the "
            "pipeline image (Transform's graph needs this project's trainer package and tensorflow-text; without "
            "it TFX packages only itself, in every task)"
        )


def remote_runner_note(beam: BeamParams) -> Optional[str]:
    if beam.runner == "DirectRunner":
        return None
    return (
        f"beam runner {beam.runner}: its workers read and write the tasks' artifacts under the pipeline root "
        "themselves, so give the run a root they can open (gs://); with minio:// or s3:// the KFP launcher "
        "hands each task a copy inside its pod, which remote workers cannot see"
    )


def with_worker_image(beam: BeamParams, image: str) -> BeamParams:
    """Beam settings for the pods: the in-pod DirectRunner's "workers" are the pod itself, in this image.

    Naming the pipeline image as the worker image is true and skips TFX's per-task sdist (a remote
    runner's arguments name their workers themselves, check_beam_args)."""
    if beam.runner != "DirectRunner" or names_worker_dependencies(beam.extra_args):
        return beam
    return beam.model_copy(update={"extra_args": [*beam.extra_args, f"--sdk_container_image={image}"]})


def size_direct_workers(container: dict[str, Any], task: str, beam: BeamParams, resources: ResourceParams) -> None:
    """One task's DirectRunner workers follow its pod's CPU and memory limits, not the node's cores."""
    if beam.runner != "DirectRunner":
        return
    workers = beam.workers_for(resources.for_node(task))
    container["args"] = [
        f"{DIRECT_WORKERS}{workers}" if arg.startswith(DIRECT_WORKERS) else arg for arg in container["args"]
    ]
