"""BeamParams: the Beam arguments every Beam component gets (locally; compiled for Kubeflow see
tests/lexflow/test_kubeflow_runner.py), and the DirectRunner workers one Kubeflow task may run."""

import pytest

from pipeline.config import BeamParams, PipelineConfig, TaskResources


@pytest.fixture
def no_tfx_package(monkeypatch):
    """TFX packages itself (a tfx_ephemeral sdist under /tmp/tmpXXXX/build, ~49 MB left per component run)
    whenever the Beam arguments name no worker dependencies: make that an error."""
    from tfx.utils import dependency_utils

    def refuse():
        raise AssertionError("TFX would build its ephemeral package (and leave it in /tmp)")

    monkeypatch.setattr(dependency_utils, "build_ephemeral_package", refuse)
    return dependency_utils.make_beam_dependency_flags


def test_local_direct_runner_args_make_tfx_build_nothing(no_tfx_package):
    for beam in (BeamParams(), BeamParams(direct_running_mode="multi_processing", direct_num_workers=2)):
        args = PipelineConfig(beam=beam).beam.pipeline_args()
        assert no_tfx_package(args) == args  # what every TFX Beam executor does with them first
        assert args[:3] == [
            f"--direct_running_mode={beam.direct_running_mode}",
            f"--direct_num_workers={beam.direct_num_workers or 1}",
            "--pickle_library=cloudpickle",
        ]
    # The DirectRunner stages nothing: the setup file only stops TFX, and names the project's.
    (setup,) = [a for a in BeamParams().pipeline_args() if a.startswith("--setup_file=")]
    assert setup.endswith("/setup.py")


def test_in_memory_runs_one_worker_unless_told_and_other_modes_one_per_core():
    # in_memory's "workers" would only cut each bundle into parts run in threads of one process.
    assert "--direct_num_workers=1" in BeamParams().pipeline_args()
    assert "--direct_num_workers=3" in BeamParams(direct_num_workers=3).pipeline_args()
    assert "--direct_num_workers=0" in BeamParams(direct_running_mode="multi_processing").pipeline_args()
    # An extra argument comes later and wins in Beam's parser.
    args = BeamParams(extra_args=["--pickle_library=dill"]).pipeline_args()
    assert args.index("--pickle_library=dill") > args.index("--pickle_library=cloudpickle")


def test_given_worker_dependencies_are_kept_and_a_remote_runner_gets_its_args_verbatim(no_tfx_package):
    image = ["--sdk_container_image=registry.example.com/lexflow@sha256:" + "5f" * 32]
    args = BeamParams(extra_args=image).pipeline_args()
    assert args[-1] == image[0] and not any(a.startswith("--setup_file") for a in args)
    remote = ["--runner=DirectRunner", "--runner=PortableRunner", "--job_endpoint=localhost:8099", *image]
    beam = BeamParams(extra_args=remote)
    assert beam.runner == "PortableRunner"  # the last --runner wins, as in Beam's parser
    assert no_tfx_package(beam.pipeline_args()) == remote


@pytest.mark.parametrize(
    "cpu_limit, memory_limit_gb, asked, expected",
    [
        (1.0, 2.0, 0, 1),  # the default task: one worker, whatever the node has
        (2.0, 8.0, 0, 2),  # Transform, Trainer, Evaluator by default: the CPU limit
        (8.0, 4.0, 0, 2),  # memory bounds it: 4 GB / 2 GB per worker
        (0.5, 0.5, 0, 1),  # never none
        (8.0, 32.0, 3, 3),  # asked for fewer than the pod allows
        (2.0, 8.0, 16, 2),  # asked for more: the pod's limit
    ],
)
def test_direct_workers_follow_the_tasks_limits(cpu_limit, memory_limit_gb, asked, expected):
    task = TaskResources(
        cpu_request=min(cpu_limit, 0.5),
        cpu_limit=cpu_limit,
        memory_request_gb=min(memory_limit_gb, 0.5),
        memory_limit_gb=memory_limit_gb,
    )
    assert BeamParams(direct_num_workers=asked).workers_for(task) == expected
