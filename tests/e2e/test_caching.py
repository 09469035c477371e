"""A component re-runs only when what it uses changes, shown through MLMD's CACHED/COMPLETE states.

One chain of runs on a copy of the session's metadata store: unchanged, retrain-policy and
resource-only changes, a trainer setting, trainer code. The pipeline root and the serving dir
stay where they are (both are part of the cache keys: outputs' locations, the baseline's model
base dir); versions the chain pushes are removed afterwards, so later tests see the session's.
"""

import shutil
import time

import pytest

from lexflow.runs.local_run import run_local

pytestmark = pytest.mark.e2e
ALL = (
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
)


@pytest.fixture
def private_copy(pipeline_run, tmp_path):
    """The session's run with a copy of its metadata store; pushes made on it are removed afterwards."""
    config = pipeline_run.config
    shutil.copy(config.metadata_path, tmp_path / "metadata.sqlite")
    served = set(config.model_dir.iterdir())
    yield config.model_copy(update={"metadata_path": tmp_path / "metadata.sqlite"})
    for pushed in set(config.model_dir.iterdir()) - served:
        shutil.rmtree(pushed)


def _states(summary) -> dict[str, str]:
    return {c.component: c.state for c in summary.components}


def test_each_component_reruns_only_when_what_it_uses_changes(private_copy, monkeypatch):
    config = private_copy
    started = time.perf_counter()
    unchanged = run_local(config)
    seconds = time.perf_counter() - started
    assert set(_states(unchanged)) == set(ALL) and set(_states(unchanged).values()) == {"CACHED"}, _states(unchanged)
    print(f"unchanged second run: fully cached in {seconds:.1f} s")  # measured, not asserted (shared machine)

    # Settings no component reads: the retrain policy, drift-free gateway settings, resources.
    policy = config.model_copy(
        update={"retrain": config.retrain.model_copy(update={"min_new_feedback": 7, "watch_interval_seconds": 9.0})}
    )
    policy = policy.model_copy(
        update={"resources": policy.resources.model_copy(update={"trainer": policy.resources.default})}
    )
    assert set(_states(run_local(policy)).values()) == {"CACHED"}

    # A trainer-only setting: Transform (38 s here before) is reused, the Trainer and what follows re-run
    # (the model search too: `train` is the base its trials start from).
    steps = config.model_copy(update={"train": config.train.model_copy(update={"train_steps": 60})})
    states = _states(run_local(steps))
    assert states["Transform"] == "CACHED" and states["ExampleGen"] == "CACHED", states
    assert states["Trainer"] == "COMPLETE" and states["Evaluator"] == "COMPLETE", states
    assert states["ModelSearch"] == "COMPLETE", states

    # Code under trainer/ (its fingerprint is in both custom_configs): Transform and Trainer re-run.
    monkeypatch.setattr("pipeline.pipeline.code_version", lambda: "an-edited-trainer")
    states = _states(run_local(steps))
    assert states["Transform"] == "COMPLETE" and states["Trainer"] == "COMPLETE", states
    assert states["ExampleGen"] == "CACHED" and states["StatisticsGen"] == "CACHED", states
