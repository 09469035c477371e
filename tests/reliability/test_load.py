"""Load: the gateway under concurrent classify + feedback traffic answers no 5xx and loses no
acknowledged feedback. A short run of benchmarks/load_test.py (its CLI, as a user runs it); the
60 s / 32-client numbers in RELIABILITY.md come from the same script."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.load_test import ClientLog, percentile, summarize

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_short_load_run_has_no_5xx_and_loses_no_acknowledged_feedback(pipeline_run, tmp_path):
    base = tmp_path / "serving"
    shutil.copytree(pipeline_run.model_dir, base / "lexflow" / pipeline_run.model_dir.name)
    out = tmp_path / "load.json"
    # 32 clients like the full run, for 8 s: enough to queue requests on 2 cores and to
    # interleave hundreds of feedback commits with prediction logging.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.load_test",
            "--duration",
            "8",
            "--clients",
            "32",
            "--model-base-dir",
            str(base),
            "--out",
            str(out),
            "--workdir",
            str(tmp_path / "gateway"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert out.is_file(), result.stdout + result.stderr
    report = json.loads(out.read_text())
    assert result.returncode == 0 and report["passed"], (result.stdout, result.stderr, report["failures"])
    assert report["server_errors_5xx"] == 0 and report["transport_errors"] == 0
    # Not vacuous: real traffic of both kinds went through, and all of it was audited.
    assert report["statuses"].get("classify 200", 0) >= 50 and report["feedback_acknowledged"] >= 10
    assert report["feedback_missing"] == 0 and report["feedback_listed"] >= report["feedback_acknowledged"]
    assert report["store"] == {
        **report["store"],
        "integrity_check": ["ok"],
        "foreign_key_violations": 0,
        "predictions_missing": 0,
    }
    assert report["store"]["predictions_stored"] == report["predictions_acknowledged"]
    assert 0 < report["latency"]["all"]["p50_ms"] <= report["latency"]["all"]["p99_ms"]


def test_audit_flags_missing_or_altered_feedback_and_server_errors():
    """The audit itself must be able to fail: a lost row, a changed label and a 5xx all count."""
    log = ClientLog()
    log.acked_feedback = {1: ("p1", "a"), 2: ("p2", "b"), 3: ("p3", "c")}
    log.statuses.update(
        {("classify", "200"): 5, ("feedback", "201"): 3, ("classify", "503"): 1, ("feedback", "ConnectError"): 1}
    )
    log.latencies["classify"] = [0.01, 0.02, 0.03]
    stored = {1: {"prediction_id": "p1", "label": "a"}, 2: {"prediction_id": "p2", "label": "WRONG"}}
    report = summarize([log], elapsed=1.0, stored_feedback=stored)
    assert report["feedback_missing"] == 2 and sorted(report["missing_feedback_examples"]) == [2, 3]
    assert report["server_errors_5xx"] == 1 and report["transport_errors"] == 1
    assert percentile([0.01, 0.02, 0.03], 0.99) == 0.03
