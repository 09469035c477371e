"""The retrain policy's triggers and `lexflow retrain`'s refusals, on a real (SQLite) feedback store."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from core.errors import UserError
from datagen import generate_rows, write_csv
from feedback.store import FeedbackStore
from lexflow.runs.retrain import evaluate_policy, retrain
from pipeline.config import PipelineConfig

POLICY = {
    "min_new_feedback": 40,
    "accuracy_window": 30,
    "min_accuracy_feedback": 10,
    "min_live_accuracy": 0.7,
    "min_drift_rows": 20,
}


@pytest.fixture
def setup(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(300, seed=1))
    config = PipelineConfig.model_validate(
        {
            "data_root": tmp_path / "data",
            "pipeline_root": tmp_path / "p",
            "metadata_path": tmp_path / "m.sqlite",
            "serving_dir": tmp_path / "s",
            "retrain": POLICY,
        }
    )
    return config, FeedbackStore(f"sqlite:///{tmp_path}/feedback.sqlite")


def _feedback(store, rows, correct: bool):
    for row in rows:
        [pid] = store.log_predictions("lexflow", 1, "production", [row["text"]], [row["label"]], [{row["label"]: 1.0}])
        store.add_feedback(
            row["label"] if correct else "termination" if row["label"] != "termination" else "assignment",
            prediction_id=pid,
        )


def test_quiet_store_does_not_retrain(setup):
    config, store = setup
    _feedback(store, generate_rows(15, seed=2), correct=True)
    decision = evaluate_policy(config, store)
    assert not decision.retrain and decision.pending == 15 and decision.live_accuracy == 1.0
    assert any("new feedback 15" in c for c in decision.checks)


def test_enough_feedback_triggers(setup):
    config, store = setup
    _feedback(store, generate_rows(45, seed=2), correct=True)
    decision = evaluate_policy(config, store)
    assert decision.retrain and decision.reasons[0] == "45 new feedback rows >= 40"


def test_low_live_accuracy_triggers_over_the_last_window(setup):
    config, store = setup
    _feedback(store, generate_rows(12, seed=2), correct=True)
    _feedback(store, generate_rows(20, seed=3), correct=False)  # the last 30: 10 right, 20 wrong
    decision = evaluate_policy(config, store)
    assert decision.retrain and abs(decision.live_accuracy - 10 / 30) < 1e-9
    assert any(r.startswith("live accuracy 0.333 < 0.7") for r in decision.reasons)


def test_drifted_feedback_triggers(setup):
    config, store = setup
    _feedback(store, generate_rows(25, seed=2, drift=1.0), correct=True)
    decision = evaluate_policy(config, store)
    assert decision.drift is not None and decision.drift.drifted
    assert decision.retrain and any(r.startswith("pending feedback drifted") for r in decision.reasons)


def test_dry_run_exports_nothing(setup):
    config, store = setup
    _feedback(store, generate_rows(45, seed=2), correct=True)
    report = retrain(config, store, dry_run=True)
    assert report.decision.retrain and report.exported_span is None and report.summary is None
    assert not (config.data_root / "span-1").exists()


def test_flat_data_root_is_refused(tmp_path):
    write_csv(tmp_path / "flat" / "corpus.csv", generate_rows(10, seed=1))
    config = PipelineConfig.model_validate({"data_root": tmp_path / "flat"})
    with pytest.raises(UserError, match="not in the span layout"):
        retrain(config, FeedbackStore(f"sqlite:///{tmp_path}/f.sqlite"))


def test_cli_dry_run_prints_the_decision(setup, tmp_path):
    from lexflow.cli import app

    config, store = setup
    _feedback(store, generate_rows(45, seed=2), correct=True)
    result = CliRunner().invoke(
        app,
        [
            "retrain",
            "--dry-run",
            "--data-root",
            str(config.data_root),
            "--database-url",
            f"sqlite:///{tmp_path}/feedback.sqlite",
        ],
    )
    assert result.exit_code == 0, result.output
    # The default policy (no --config): 45 rows are not enough yet, and the output says against what.
    assert "retrain policy: no trigger fired" in result.output and "new feedback 45 (trigger at 200)" in result.output
    assert not (config.data_root / "span-1").exists()


def test_cli_unreachable_store_is_one_line(tmp_path):
    from lexflow.cli import app

    result = CliRunner().invoke(
        app, ["retrain", "--dry-run", "--database-url", "postgresql+psycopg://nobody@127.0.0.1:1/x"]
    )
    assert result.exit_code == 2 and "feedback store: cannot open it" in result.output


def test_cli_retrain_on_a_dataset_reads_that_datasets_store(tmp_path, monkeypatch):
    """`--data-root contracts` names model `contracts`: its gateway's store, not the demo model's."""
    from core import workspace
    from lexflow.cli import app

    monkeypatch.setenv(workspace.HOME_ENV, str(tmp_path))
    monkeypatch.delenv("LEXFLOW_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEXFLOW_MODEL_NAME", raising=False)
    write_csv(tmp_path / "contracts" / "span-0" / "corpus.csv", generate_rows(60, seed=1))
    own = FeedbackStore(workspace.database_url(None, "contracts"))
    _feedback(own, generate_rows(7, seed=2), correct=True)

    monkeypatch.setenv("LEXFLOW_MODEL_NAME", "lexflow")  # e.g. left over from serving the demo
    result = CliRunner().invoke(app, ["retrain", "--dry-run", "--data-root", "contracts"])
    assert result.exit_code == 0, result.output
    assert "new feedback 7 (trigger at 200)" in result.output
    store = tmp_path / "artifacts" / "contracts" / "feedback.sqlite"
    assert f"model contracts (named after data root {tmp_path / 'contracts'}); feedback store sqlite:///{store}" in (
        result.output
    )
    assert "note: LEXFLOW_MODEL_NAME=lexflow names another model" in result.output
    assert not (tmp_path / "artifacts" / "lexflow").exists()  # the demo model's store was not even created
    monkeypatch.delenv("LEXFLOW_MODEL_NAME")

    # A model named on its own must exist: a typo is one error line, and no store is created for it.
    result = CliRunner().invoke(app, ["retrain", "--dry-run", "--model-name", "contarcts"])
    assert result.exit_code == 2 and "error: no model 'contarcts' here" in result.output, result.output
    assert "models here: contracts" in result.output and not (tmp_path / "artifacts" / "contarcts").exists()

    # A relative SQLite URL follows the workspace rule like every other path.
    FeedbackStore(f"sqlite:///{tmp_path}/elsewhere.sqlite")
    result = CliRunner().invoke(
        app, ["retrain", "--dry-run", "--data-root", "contracts", "--database-url", "sqlite:///elsewhere.sqlite"]
    )
    assert result.exit_code == 0 and "new feedback 0" in result.output, result.output
