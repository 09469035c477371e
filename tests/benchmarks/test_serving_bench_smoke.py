"""The serving benchmark starts and its load loop counts what it should (no model needed)."""

import subprocess
import sys

import pytest

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


@pytest.mark.parametrize("module", ["benchmarks.serving_bench", "benchmarks.serving_stages"])
def test_cli_help_and_missing_model_error(tmp_path, module):
    assert subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, timeout=120).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", module, "--model-base-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "run `python local_runner.py` first" in result.stderr


def test_http_load_generator_keeps_connections_alive_and_counts_errors():
    """The asyncio HTTP/1.1 client against a tiny server: one connection per client, every
    answer read to its end, non-200 answers counted as errors."""
    import asyncio
    import threading

    from benchmarks.serving_bench import _pooled, run_http_load

    connections, answered = [], [0]
    ready = threading.Event()
    state = {}

    async def handle(reader, writer):
        connections.append(1)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            assert b'"texts"' in await reader.readexactly(length)
            answered[0] += 1
            status, body = (
                (b"200 OK", b'{"predictions": [{"prediction_id": "x"}]}')
                if answered[0] % 5
                else (b"503 Service Unavailable", b'{"error": "down"}')
            )
            writer.write(b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status, len(body), body))
        writer.close()

    def serve():
        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", 0)
            state["port"] = server.sockets[0].getsockname()[1]
            state["stop"] = asyncio.get_running_loop().create_future()
            state["loop"] = asyncio.get_running_loop()
            ready.set()
            await state["stop"]
            server.close()

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        result = run_http_load("127.0.0.1", state["port"], clients=3, seconds=1.0)
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set_result, None)
        thread.join(10)
    assert len(connections) == 3  # keep-alive: one connection per client for the whole run
    assert result["requests"] + result["errors"] == answered[0] and result["errors"] >= 1
    assert result["rps"] > 0 and result["p50_ms"] <= result["p99_ms"]
    pooled = _pooled(
        [
            dict(result, cpu_us_per_request=10.0, load_1min=[0, 0]),
            dict(result, cpu_us_per_request=30.0, load_1min=[0, 0]),
        ]
    )
    assert pooled["requests"] == 2 * result["requests"] and pooled["cpu_us_per_request"] == 20.0


def test_a_baseline_revision_that_is_no_commit_is_an_error_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.serving_bench", "--baseline-rev", "no-such-revision-xyz"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and "--baseline-rev no-such-revision-xyz: not a commit" in result.stderr


def test_profile_summary_splits_cpu_by_thread_and_ranks_self_and_inclusive_time():
    from benchmarks.profile_summary import summarize

    raw = "\n".join(
        [
            "thread (0x1): MainThread;run (uvicorn/server.py);send (uvicorn/protocols/http/httptools_impl.py) 30",
            "thread (0x1): MainThread;run (uvicorn/server.py);classify_async (serving/service.py) 10",
            "thread (0x2): batcher-v1796396569;_run (serving/backends/batching.py) 10",
            "not a stack line",
        ]
    )
    cpu = {"11": ("MainThread", 0.3), "12": ("batcher-v1796396569", 0.1), "13": ("native: python", 0.1)}
    text = summarize(raw, requests=1000, rate=100.0, thread_cpu=cpu)
    assert "CPU time by thread (/proc): 0.50 s, 500 us/request" in text
    assert " 60.0 %    300.0 us/request  MainThread" in text and "  batcher" in text  # versions grouped
    assert "50 samples at 100 Hz, 1000 requests" in text
    main = text.split("== MainThread: self time by package")[1]
    assert main.index("uvicorn") < main.index("serving")  # 30 samples before 10
    assert "80.0 %    400.0 us/request  run (uvicorn/server.py)" in text  # inclusive: both stacks


def test_stage_summary_counts_the_calls_that_began_in_the_window():
    from benchmarks.serving_stages import stage_summary

    # (began, ended, size, cpu seconds): one call before the window, two inside (the last runs past its end).
    records = [[0.5, 1.5, 4, 0.1], [1.0, 2.0, 10, 0.2], [2.5, 3.5, 20, 0.4], [4.0, 5.0, 99, 1.0]]
    summary = stage_summary(records, start=1.0, end=3.0)
    assert summary == {
        "calls": 2,
        "mean_size": 15.0,
        "wall_ms_per_call": 1000.0,
        "cpu_ms_per_call": 300.0,
        "busy_share": 0.75,  # 1.0 s + the 0.5 s before the end, of 2 s
    }
    assert stage_summary(records, start=6.0, end=7.0) == {"calls": 0}
