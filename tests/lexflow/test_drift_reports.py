"""Live drift (lexflow/reports/drift_reports.py, `lexflow drift --live`): recent predictions from a
real feedback store against the data root's training window; the report and its verdict land in
the reports directory the gateway serves."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import reports
from core.errors import UserError
from datagen import generate_rows, write_csv
from feedback import FeedbackStore
from lexflow.reports import drift_reports
from tests.conftest import small_pipeline_config

REPO = Path(__file__).resolve().parents[2]


def _log(store: FeedbackStore, rows: list[dict]) -> None:
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    store.log_predictions("lexflow", 1, "production", texts, labels, [{label: 1.0} for label in labels])


@pytest.fixture
def workspace(tmp_path):
    write_csv(tmp_path / "data" / "span-0" / "corpus.csv", generate_rows(300, seed=5))
    write_csv(tmp_path / "data" / "span-1" / "feedback.csv", generate_rows(60, seed=6, source="feedback"))
    config = small_pipeline_config(tmp_path)  # its metadata store does not exist: no served version known
    store = FeedbackStore(f"sqlite:///{tmp_path}/feedback.sqlite")
    return config, store, tmp_path / "reports"


def test_shifted_live_traffic_drifts_and_only_the_newest_predictions_count(workspace):
    config, store, directory = workspace
    _log(store, generate_rows(100, seed=7))  # in distribution, then 150 in a shifted drafting style
    _log(store, generate_rows(150, seed=8, drift=1.0))
    report = drift_reports.live_report(config, store, directory, last=150)
    assert report.result.current_rows == 150 and report.result.baseline_rows == 360
    assert report.window.spans == [0, 1] and "config's span window" in report.window.source
    assert report.result.drifted, report.result.describe()
    assert report.path.parent == directory and report.path.name.startswith(reports.LIVE_PREFIX)
    html = report.path.read_text(encoding="utf-8")
    assert "live traffic (150 rows) vs. training window (360 rows)" in html and 'id="verdict">DRIFT' in html
    assert "newest 150 predictions" in html and "spans 0, 1" in html
    verdict = reports.read_verdict(directory)
    assert verdict is not None and verdict.drifted and verdict.report == report.path.name
    assert {m["feature"] for m in verdict.measures} == {"label", "text_length", "vocabulary"}


def test_in_distribution_traffic_against_the_configured_window_does_not_drift(workspace):
    config, store, directory = workspace
    config = config.model_copy(update={"spans": config.spans.model_copy(update={"window": 1})})
    _log(store, generate_rows(200, seed=9))
    report = drift_reports.live_report(config, store, directory)
    assert report.window.spans == [1]
    window_only_span_1 = drift_reports.training_window(config).sample
    assert len(window_only_span_1.texts) == 60
    full = config.model_copy(update={"spans": config.spans.model_copy(update={"window": 0})})
    assert not drift_reports.live_report(full, store, directory).result.drifted
    assert reports.read_verdict(directory).drifted is False


def test_no_text_to_measure_is_a_clear_error(workspace, tmp_path):
    config, _, directory = workspace
    empty = FeedbackStore(f"sqlite:///{tmp_path}/empty.sqlite")
    with pytest.raises(UserError, match="no predictions with their text"):
        drift_reports.live_report(config, empty, directory)
    hashed = FeedbackStore(f"sqlite:///{tmp_path}/hashed.sqlite", store_text=False)
    _log(hashed, generate_rows(5, seed=1))
    with pytest.raises(UserError, match="5 without text: the gateway runs with LEXFLOW_STORE_TEXT off"):
        drift_reports.live_report(config, hashed, directory)
    assert not directory.exists()  # nothing half-written


def test_old_live_reports_are_pruned_and_run_reports_kept(workspace, monkeypatch):
    config, store, directory = workspace
    directory.mkdir()
    for i, name in enumerate(["drift-live-20240101T000000Z.html", "drift-live-20240102T000000Z.html"]):
        (directory / name).write_text("old")
        os.utime(directory / name, (1_000 + i, 1_000 + i))
    (directory / "drift-span-1-vs-0.html").write_text("run")
    os.utime(directory / "drift-span-1-vs-0.html", (500, 500))
    monkeypatch.setattr(drift_reports, "KEEP_LIVE_REPORTS", 2)
    _log(store, generate_rows(40, seed=3))
    report = drift_reports.live_report(config, store, directory)
    left = sorted(p.name for p in directory.glob("*.html"))
    assert left == sorted(["drift-live-20240102T000000Z.html", report.path.name, "drift-span-1-vs-0.html"])


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "LEXFLOW_HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "lexflow.cli", "drift", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=env,
    )


def test_cli_writes_the_live_report_where_the_gateway_reads_it(workspace, tmp_path):
    config, store, _ = workspace
    _log(store, generate_rows(80, seed=8, drift=1.0))
    result = _cli(
        "--live",
        "--data-root",
        str(config.data_root),
        "--metadata-path",
        str(config.metadata_path),
        "--database-url",
        f"sqlite:///{tmp_path}/feedback.sqlite",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # Default directory: the gateway's LEXFLOW_REPORTS_DIR default under the workspace, for the model
    # this data root trains (named after the data root's folder, "data", as every dataset is isolated).
    directory = tmp_path / "artifacts" / config.data_root.name / "reports"
    verdict = json.loads((directory / reports.LIVE_VERDICT_FILE).read_text())
    assert verdict["drifted"] is True and (directory / verdict["report"]).is_file()
    assert f"wrote {directory / verdict['report']}" in result.stdout.replace("\n", "")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--live", "--span", "1"], "use one of them"),
        (["--live", "--database-url", "sqlite:///empty.sqlite"], "no predictions with their text"),
        (["--metadata-path", "missing.sqlite"], "missing.sqlite does not exist"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(tmp_path, args, message):
    write_csv(tmp_path / "data" / "demo" / "span-0" / "corpus.csv", generate_rows(20, seed=1))
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in result.stderr.replace("\n", ""), result.stderr
