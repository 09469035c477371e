"""The serving benchmark starts and its load loop counts what it should (no model needed)."""
import subprocess
import sys

from benchmarks.serving_bench import _percentile, run_load


def test_load_loop_counts_requests_errors_and_percentiles():
    calls = []

    def call(text):
        calls.append(text)
        if len(calls) % 10 == 0:
            raise RuntimeError("every tenth call fails")

    result = run_load(call, clients=2, seconds=1.0)
    assert result["requests"] + result["errors"] == len(calls) and result["errors"] >= 1
    assert result["rps"] > 0 and result["p50_ms"] <= result["p99_ms"]
    assert _percentile([1, 2, 3, 4], 0.5) == 3 and _percentile([5], 0.99) == 5


def test_cli_help_and_missing_model_error(tmp_path):
    assert subprocess.run([sys.executable, "-m", "benchmarks.serving_bench", "--help"], capture_output=True,
                          timeout=120).returncode == 0
    result = subprocess.run([sys.executable, "-m", "benchmarks.serving_bench", "--model-base-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "run `python local_runner.py` first" in result.stderr
