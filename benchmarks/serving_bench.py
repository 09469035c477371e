"""Serving throughput and latency: the gateway over HTTP vs. the same model called in-process.

    python -m benchmarks.serving_bench [--model-base-dir artifacts/serving] [--seconds 5] [--rounds 2]
        [--baseline-rev e56c2e0] [--profile DIR]

For 1, 8 and 32 concurrent clients it measures requests/s and p50/p99 latency, one text per
request, of:

- **direct**: the pushed SavedModel called in-process by N concurrent callers (threads), one
  text per call: its `serving_default` signature on a one-element batch and the outputs read
  back (`LoadedModel._predict_now`). This is "calling the in-process model directly", the
  baseline the gateway is held to (issue: keep >= 70 % of its throughput at 32 clients).
- **gateway**: POST /v1/classify on the gateway started in a subprocess with its production
  entry point (`lexflow serve`, uvicorn, in-process backend, SQLite store in WAL mode with
  synchronous=FULL: each answered prediction has been fsync'd, group-committed under load).
  The gateway micro-batches concurrent requests per model version, which is how it can keep
  up with (and pass) N threads each calling the model on its own.
  The load generator is a small asyncio HTTP/1.1 client in this process, one keep-alive
  connection per client, each sending its next request when the previous answer arrived
  (closed loop). It costs ~40-120 us of CPU per request; `--client httpx` uses httpx clients in
  threads instead (~1 ms of CPU per request, more than the server: on a small machine that CPU
  is taken from the server, and the benchmark measures the client).
- **direct_batched** (a stricter bound, `--batched`, on by default): the same N threads through
  the gateway's own backend object (`InProcessBackend.predict`, i.e. the per-version
  `MicroBatcher`), without HTTP and without logging: the most any server in this process could
  get out of the model. The gateway adds HTTP, validation, routing, metrics and the durable
  prediction log on top of exactly this call.

The three are interleaved (`--rounds` times each per client count) so that changes in the load
of a shared machine hit them alike; each row pools its rounds. The result records the load
average around every run, the CPU time the server process and the client spent per request
(robust against noise: throughput on a loaded machine is CPU time per request divided into the
CPU left over), and the fsync latency of the store's disk. Ratios: `gateway_vs_direct_rps`
and `gateway_vs_batched_rps`. Writes benchmarks/results/serving.json.

`--baseline-rev REV` checks REV out into a temporary `git worktree` and runs its gateway too
(`lexflow serve` of that tree, same model, its own SQLite store with the same settings), in the
same rounds, right after this tree's: `gateway_vs_baseline_rps` and
`gateway_vs_baseline_server_cpu` compare the two under the same load. `--profile DIR` adds one
unmeasured run per gateway under py-spy (benchmarks/profile_summary.py): the CPU time of each
server thread and where the thread holding the GIL spent it. Targets (`targets`, `targets_met`,
at 32 clients): `TARGETS` below.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

TEXTS = [
    "This Agreement shall be governed by the laws of the State of New York.",
    "Either party may terminate this Agreement upon thirty (30) days prior written notice.",
    "The Receiving Party shall hold all Confidential Information in strict confidence.",
    "IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR ANY CONSEQUENTIAL DAMAGES.",
]
app = typer.Typer(add_completion=False)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _summary(clients: int, latencies: list[float], errors: int, elapsed: float) -> dict:
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * _percentile(latencies, 0.50),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
        "seconds": elapsed,
    }


def run_load(call: Callable[[str], None], clients: int, seconds: float) -> dict:
    """N threads calling `call(text)` back to back for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(i: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                call(TEXTS[(i + n) % len(TEXTS)])
                latencies[i].append(time.perf_counter() - start)
            except Exception:
                errors[i] += 1
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return _summary(clients, [x for per in latencies for x in per], sum(errors), time.perf_counter() - began)


def _classify_requests(host: str, port: int) -> list[bytes]:
    requests = []
    for text in TEXTS:
        body = json.dumps({"texts": [text]}).encode()
        requests.append(
            b"POST /v1/classify HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (host.encode(), port, len(body), body)
        )
    return requests


async def _http_load(host: str, port: int, clients: int, seconds: float) -> dict:
    """N keep-alive HTTP/1.1 connections, each sending its next request when the answer is in."""
    requests = _classify_requests(host, port)
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    async def client(i: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        n = 0
        try:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                writer.write(requests[(i + n) % len(requests)])
                n += 1
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                if head[9:12] == b"200" and b'"prediction_id"' in body:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors[0] += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return _summary(clients, latencies, errors[0], time.perf_counter() - began)


def run_http_load(host: str, port: int, clients: int, seconds: float) -> dict:
    try:
        import uvloop

        return uvloop.run(_http_load(host, port, clients, seconds))
    except ImportError:
        return asyncio.run(_http_load(host, port, clients, seconds))


def run_httpx_load(base: str, clients: int, seconds: float) -> dict:
    import httpx

    local = threading.local()

    def call(text: str) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(timeout=30)
        local.client.post(f"{base}/v1/classify", json={"texts": [text]}).raise_for_status()

    return run_load(call, clients, seconds)


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _measured(run: Callable[[], dict], server_pid: Optional[int] = None) -> dict:
    load_before = os.getloadavg()[0]
    client0 = _self_cpu()
    server0 = _process_cpu(server_pid) if server_pid else None
    result = run()
    n = max(result["requests"], 1)
    result["cpu_us_per_request"] = (
        1e6 * (_self_cpu() - client0) / n
    )  # this process: callers/client (+ model for direct)
    if server_pid and server0 is not None:
        result["server_cpu_us_per_request"] = 1e6 * (_process_cpu(server_pid) - server0) / n
    result["load_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return result


def _pooled(runs: list[dict]) -> dict:
    """One row from several rounds: total requests over total time; percentiles over all rounds."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    row = {
        "clients": runs[0]["clients"],
        "requests": requests,
        "errors": sum(r["errors"] for r in runs),
        "rps": requests / seconds,
        # rounds are similar in size, so a request-weighted mean of their percentiles is close enough
        "p50_ms": sum(r["p50_ms"] * r["requests"] for r in runs) / max(requests, 1),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "rounds_rps": [round(r["rps"], 1) for r in runs],
    }
    for key in ("cpu_us_per_request", "server_cpu_us_per_request"):
        if key in runs[0]:
            row[key] = sum(r[key] * r["requests"] for r in runs) / max(requests, 1)
    row["load_1min"] = [r["load_1min"] for r in runs]
    if "fsync_ms_p50" in runs[0]:
        row["fsync_ms_p50"] = [round(r["fsync_ms_p50"], 3) for r in runs]
    return row


def _fsync_ms(directory: Path, n: int = 50) -> float:
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        times = []
        for _ in range(n):
            start = time.perf_counter()
            os.write(fd, b"x" * 512)
            os.fsync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    return 1000 * _percentile(times, 0.5)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@app.command()
def main(
    model_base_dir: Path = typer.Option(
        Path("artifacts/serving"), help="Holds lexflow/<version>/ (run the pipeline first)."
    ),
    seconds: float = typer.Option(5.0, min=1.0, max=120.0, help="Duration of each run."),
    rounds: int = typer.Option(2, min=1, max=10, help="Interleaved direct/gateway runs per client count."),
    clients: str = typer.Option("1,8,32", help="Comma-separated client counts."),
    client: str = typer.Option("asyncio", help="Gateway load generator: asyncio (raw HTTP/1.1) or httpx (threads)."),
    batched: bool = typer.Option(
        True, help="Also time the gateway's backend with its micro-batcher, no HTTP (a stricter bound)."
    ),
    out: Path = typer.Option(Path("benchmarks/results/serving.json")),
    baseline_rev: Optional[str] = typer.Option(
        None,
        help="Also run the gateway of this git revision (checked out into a temporary `git worktree`), against "
        "the same model and store settings, interleaved with this one: a before/after comparison in one run.",
    ),
    baseline_source: Optional[Path] = typer.Option(
        None,
        help="As --baseline-rev, for a source tree already checked out (e.g. a `git worktree` of an older commit).",
    ),
    profile: Optional[Path] = typer.Option(
        None,
        help="After the measured runs, profile each gateway with py-spy under the largest client count (one more "
        "run, not measured: sampling slows the server) and write <name>.txt (where its CPU went) and the raw "
        "stacks here.",
    ),
) -> None:
    from core import tf_env  # noqa: F401
    from serving.backends.inprocess import InProcessBackend

    if client not in ("asyncio", "httpx"):
        typer.echo("error: --client must be asyncio or httpx", err=True)
        raise typer.Exit(2)
    if baseline_rev is not None and baseline_source is not None:
        typer.echo("error: give --baseline-rev or --baseline-source, not both", err=True)
        raise typer.Exit(2)
    if profile is not None:
        _py_spy()
    baseline_commit = _commit(baseline_rev) if baseline_rev is not None else None
    counts = [int(c) for c in clients.split(",")]
    backend = InProcessBackend(model_base_dir.absolute(), "lexflow")
    if not backend.versions():
        typer.echo(f"error: no model under {model_base_dir}/lexflow; run `python local_runner.py` first", err=True)
        raise typer.Exit(2)

    model = backend.get()

    def direct_call(text: str) -> None:  # the SavedModel itself, one text per call
        model._predict_now([text])

    def batched_call(text: str) -> None:  # the gateway's backend: micro-batcher + the same model
        backend.predict([text])

    workdir = Path(tempfile.mkdtemp(prefix="lexflow-bench-"))
    host = "127.0.0.1"
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        if baseline_commit is not None:
            baseline_source = _checkout(baseline_commit, workdir / "baseline-src")
        servers["gateway"] = _start_gateway(None, model_base_dir, workdir / "gateway")
        if baseline_source is not None:
            servers["gateway_baseline"] = _start_gateway(baseline_source, model_base_dir, workdir / "baseline")
        for process, port in servers.values():
            _wait_ready(f"http://{host}:{port}", process)

        def load_on(port: int) -> Callable[[int, float], dict]:
            def run(n: int, duration: float) -> dict:
                if client == "httpx":
                    return run_httpx_load(f"http://{host}:{port}", n, duration)
                return run_http_load(host, port, n, duration)

            return run

        # Warm up every path (TF's first calls at new batch sizes, SQLite pages, connections).
        run_load(direct_call, max(counts), 1.0)
        run_load(batched_call, max(counts), 1.0)
        for _, port in servers.values():
            load_on(port)(max(counts), 1.0)
        load_start = os.getloadavg()
        rows: list[dict[str, Any]] = []
        for n in counts:
            direct_runs, batched_runs = [], []
            gateway_runs: dict[str, list[dict]] = {name: [] for name in servers}
            for _ in range(rounds):
                direct_runs.append(_measured(functools.partial(run_load, direct_call, n, seconds)))
                if batched:
                    batched_runs.append(_measured(functools.partial(run_load, batched_call, n, seconds)))
                for name, (process, port) in servers.items():
                    fsync_ms = _fsync_ms(workdir, 20)  # the disk is shared too: its latency bounds 1 client
                    measured = _measured(functools.partial(load_on(port), n, seconds), process.pid)
                    gateway_runs[name].append(dict(measured, fsync_ms_p50=fsync_ms))
            row: dict[str, Any] = {"clients": n, "direct": _pooled(direct_runs)}
            row.update({name: _pooled(runs) for name, runs in gateway_runs.items()})
            row["gateway_vs_direct_rps"] = row["gateway"]["rps"] / row["direct"]["rps"]
            if batched:
                row["direct_batched"] = _pooled(batched_runs)
                row["gateway_vs_batched_rps"] = row["gateway"]["rps"] / row["direct_batched"]["rps"]
            if "gateway_baseline" in row:
                row["gateway_vs_baseline_rps"] = row["gateway"]["rps"] / row["gateway_baseline"]["rps"]
                row["gateway_vs_baseline_server_cpu"] = (
                    row["gateway"]["server_cpu_us_per_request"] / row["gateway_baseline"]["server_cpu_us_per_request"]
                )
            rows.append(row)
            _print_row(row)
        load_end = os.getloadavg()
        fsync_end = _fsync_ms(workdir)
        for name, (process, port) in servers.items() if profile is not None else ():
            assert profile is not None
            report = _profiled(process.pid, functools.partial(load_on(port), max(counts), seconds), profile / name)
            typer.echo(f"profile of {name}: {report}")
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
        if baseline_commit is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(workdir / "baseline-src")], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)

    at_32 = _row_at(rows, 32)
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "seconds_per_run": seconds,
        "rounds": rounds,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "fsync_ms_p50": round(fsync_end, 3),
        "setup": {
            "direct": "the pushed SavedModel's serving_default on [text] from N threads (LoadedModel._predict_now)",
            "direct_batched": (
                "InProcessBackend.predict([text]) from N threads: the gateway's backend and micro-batcher, "
                "no HTTP, no logging"
            ),
            "gateway": (
                "POST /v1/classify, one text, `lexflow serve` (uvicorn), SQLite WAL synchronous=FULL, group commit"
            ),
            "client": client,
            "uvloop": _installed("uvloop"),
            "httptools": _installed("httptools"),
            "orjson": _installed("orjson"),
        },
        "results": rows,
        # The flat form of earlier versions of this file.
        "direct": [r["direct"] for r in rows],
        "gateway": [r["gateway"] for r in rows],
        "gateway_vs_direct_rps": {str(r["clients"]): r["gateway_vs_direct_rps"] for r in rows},
        "gateway_vs_batched_rps": {
            str(r["clients"]): r["gateway_vs_batched_rps"] for r in rows if "direct_batched" in r
        },
        "baseline_source": str(baseline_source) if baseline_source and not baseline_commit else None,
        "baseline_rev": baseline_rev,
        "baseline_commit": baseline_commit,
        "gateway_vs_baseline_rps": {
            str(r["clients"]): r["gateway_vs_baseline_rps"] for r in rows if "gateway_vs_baseline_rps" in r
        },
        "gateway_vs_baseline_server_cpu": {
            str(r["clients"]): r["gateway_vs_baseline_server_cpu"] for r in rows if "gateway_baseline" in r
        },
        "targets": {name: rule for name, (rule, _) in TARGETS.items()},
        "targets_met": {name: met(at_32) for name, (_, met) in TARGETS.items()} if at_32 else {},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    typer.echo(f"load average {load_start[0]:.2f} -> {load_end[0]:.2f} on {os.cpu_count()} CPUs; wrote {out}")


def _profiled(pid: int, run: Callable[[], dict], out: Path) -> Path:
    """`run` (a load) while py-spy samples process `pid`; writes `out`.raw (py-spy's collapsed stacks,
    per thread) and `out`.txt: the CPU time of each thread (from /proc) and where the thread holding
    the GIL spent it (py-spy --gil: Python and the C it calls; time in TensorFlow or SQLite kernels
    that release the GIL shows in the thread CPU only)."""
    from benchmarks.profile_summary import summarize

    out.parent.mkdir(parents=True, exist_ok=True)
    raw = out.with_suffix(".raw")
    rate = 250
    spy = subprocess.Popen(
        [
            _py_spy(),
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--gil",
            "--nonblocking",
            "--threads",
            "--nolineno",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.0)  # py-spy attaches
    threads0 = _thread_cpu(pid)
    result = run()
    threads1 = _thread_cpu(pid)
    spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled and exits
    _, err = spy.communicate(timeout=60)
    if not raw.is_file():
        raise RuntimeError(f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}")
    named = _python_thread_names(pid)
    thread_cpu = {
        tid: (named.get(tid, f"native: {name}"), seconds - threads0.get(tid, (name, 0.0))[1])
        for tid, (name, seconds) in threads1.items()
    }
    report = out.with_suffix(".txt")
    report.write_text(
        f"{result['requests']} requests, {result['rps']:.0f} rps while sampled (sampling slows the server)\n\n"
        + summarize(raw.read_text(), result["requests"], rate, thread_cpu=thread_cpu)
    )
    return report


def _python_thread_names(pid: int) -> dict[str, str]:
    """OS thread id -> Python thread name (`py-spy dump`); TensorFlow's own threads are not listed."""
    dumped = subprocess.run([_py_spy(), "dump", "--json", "--pid", str(pid)], capture_output=True, text=True)
    try:
        return {str(t["os_thread_id"]): t["thread_name"] for t in json.loads(dumped.stdout) if t.get("thread_name")}
    except (ValueError, KeyError, TypeError):
        return {}


def _thread_cpu(pid: int) -> dict[str, tuple[str, float]]:
    """thread id -> (its name in /proc, user + system CPU seconds so far), for every thread of `pid`."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        found[task.name] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return found


def _py_spy() -> str:
    beside = Path(sys.executable).parent / "py-spy"  # the venv's (`pip install -e .[dev]`)
    found = str(beside) if beside.is_file() else shutil.which("py-spy")
    if found is None:
        typer.echo("error: --profile needs py-spy (pip install py-spy)", err=True)
        raise typer.Exit(2)
    return found


def _commit(rev: str) -> str:
    found = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], capture_output=True, text=True)
    if found.returncode != 0:
        typer.echo(f"error: --baseline-rev {rev}: not a commit of this repository", err=True)
        raise typer.Exit(2)
    return found.stdout.strip()


# At 32 clients (None where the run lacks what the rule compares).
TARGETS: dict[str, tuple[str, Callable[[dict], Optional[bool]]]] = {
    "gateway_vs_direct_rps": ("gateway >= 70% of direct rps", lambda r: r["gateway_vs_direct_rps"] >= 0.7),
    "gateway_vs_batched_rps": (
        "gateway >= 50% of the batched backend's rps",
        lambda r: r["gateway_vs_batched_rps"] >= 0.5 if "gateway_vs_batched_rps" in r else None,
    ),
    "gateway_vs_baseline_server_cpu": (
        "server CPU per request <= 0.85x the baseline gateway's (--baseline-rev)",
        lambda r: r["gateway_vs_baseline_server_cpu"] <= 0.85 if "gateway_vs_baseline_server_cpu" in r else None,
    ),
}


def _row_at(rows: list[dict], clients: int) -> Optional[dict]:
    return next((r for r in rows if r["clients"] == clients), None)


def _checkout(commit: str, where: Path) -> Path:
    """`commit` checked out (detached) into a temporary git worktree of this repository."""
    subprocess.run(["git", "worktree", "add", "--detach", str(where), commit], capture_output=True, check=True)
    return where


def _start_gateway(source: Optional[Path], model_base_dir: Path, workdir: Path) -> tuple[subprocess.Popen, int]:
    """`lexflow serve` of this tree (source None) or of another checkout, with its own SQLite store."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "LEXFLOW_MODEL_BASE_DIR": str(model_base_dir.absolute()),
        "LEXFLOW_DATABASE_URL": f"sqlite:///{workdir}/feedback.sqlite",
    }
    if source is not None:  # the other tree's packages win over the installed (editable) ones
        env["PYTHONPATH"] = str(source.absolute())
    server = subprocess.Popen(
        [sys.executable, "-m", "lexflow.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=source.absolute() if source is not None else None,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return server, port


def _wait_ready(base: str, server: subprocess.Popen) -> None:
    import urllib.error
    import urllib.request

    deadline = time.time() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.time() > deadline or server.poll() is not None:
            raise RuntimeError("gateway did not become ready")
        time.sleep(0.3)


def _print_row(row: dict) -> None:
    d, g = row["direct"], row["gateway"]
    line = (
        f"{row['clients']:>3} clients  direct {d['rps']:7.1f} rps p50 {d['p50_ms']:6.1f} ms p99 {d['p99_ms']:6.1f} ms"
        f"  |  gateway {g['rps']:7.1f} rps p50 {g['p50_ms']:6.1f} ms p99 {g['p99_ms']:6.1f} ms"
        f" (server {g['server_cpu_us_per_request']:.0f} us CPU/req, client {g['cpu_us_per_request']:.0f})"
        f"  = {row['gateway_vs_direct_rps']:.0%}  errors {g['errors']}"
    )
    if "direct_batched" in row:
        line += f"  |  batched backend {row['direct_batched']['rps']:.0f} rps = {row['gateway_vs_batched_rps']:.0%}"
    if "gateway_baseline" in row:
        b = row["gateway_baseline"]
        line += (
            f"  |  baseline gateway {b['rps']:.0f} rps (server {b['server_cpu_us_per_request']:.0f} us CPU/req): "
            f"now {row['gateway_vs_baseline_rps']:.0%} of its rps, {row['gateway_vs_baseline_server_cpu']:.2f}x its CPU"
        )
    typer.echo(line, err=False)
    sys.stdout.flush()


if __name__ == "__main__":
    app()
