"""Serving throughput and latency: the gateway over HTTP vs. calling the model in-process.

    python -m benchmarks.serving_bench [--model-base-dir artifacts/serving] [--seconds 10]

For 1, 8 and 32 concurrent clients (threads, loopback only, bounded by --seconds each) it
measures requests/s and p50/p99 latency of (a) `LoadedModel.predict` called directly and
(b) POST /v1/classify on a gateway started in a subprocess (uvicorn, in-process backend,
SQLite feedback store with synchronous writes). Writes benchmarks/results/serving.json.
"""
from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

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


def run_load(call: Callable[[str], None], clients: int, seconds: float) -> dict:
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
            except Exception:  # noqa: BLE001 - counted, not fatal
                errors[i] += 1
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for per in latencies for x in per]
    return {"clients": clients, "requests": len(flat), "errors": sum(errors), "rps": len(flat) / elapsed,
            "p50_ms": 1000 * _percentile(flat, 0.50), "p99_ms": 1000 * _percentile(flat, 0.99)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@app.command()
def main(
    model_base_dir: Path = typer.Option(Path("artifacts/serving"), help="Holds lexflow/<version>/ (run the pipeline first)."),
    seconds: float = typer.Option(10.0, min=1.0, max=120.0, help="Duration per measurement."),
    clients: str = typer.Option("1,8,32", help="Comma-separated client counts."),
    out: Path = typer.Option(Path("benchmarks/results/serving.json")),
) -> None:
    from trainer import tf_env  # noqa: F401
    from serving.backends.inprocess import InProcessBackend

    counts = [int(c) for c in clients.split(",")]
    backend = InProcessBackend(model_base_dir.absolute(), "lexflow")
    if not backend.versions():
        typer.echo(f"error: no model under {model_base_dir}/lexflow; run `python local_runner.py` first", err=True)
        raise typer.Exit(2)
    model = backend.get()
    # The raw model call, without the gateway's micro-batching: what a client embedding the model gets.
    direct = [run_load(lambda t: model._predict_now([t]), n, seconds) for n in counts]

    import httpx

    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="lexflow-bench-"))
    env = {**os.environ, "LEXFLOW_MODEL_BASE_DIR": str(model_base_dir.absolute()),
           "LEXFLOW_DATABASE_URL": f"sqlite:///{workdir}/feedback.sqlite"}
    server = subprocess.Popen([sys.executable, "-m", "lexflow.cli", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline or server.poll() is not None:
                raise RuntimeError("gateway did not become ready")
            time.sleep(0.3)
        local = threading.local()

        def call(text: str) -> None:
            client = getattr(local, "client", None) or setattr(local, "client", httpx.Client(timeout=30)) or local.client
            response = client.post(f"{base}/v1/classify", json={"texts": [text]})
            response.raise_for_status()

        gateway = [run_load(call, n, seconds) for n in counts]
    finally:
        server.terminate()
        server.wait(timeout=30)

    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "seconds_per_run": seconds,
        "direct": direct, "gateway": gateway,
        "gateway_vs_direct_rps": {str(d["clients"]): g["rps"] / d["rps"] for d, g in zip(direct, gateway)},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    for d, g in zip(direct, gateway):
        typer.echo(f"{d['clients']:>3} clients  direct {d['rps']:7.1f} rps p50 {d['p50_ms']:6.1f} ms p99 {d['p99_ms']:6.1f} ms"
                   f"  |  gateway {g['rps']:7.1f} rps p50 {g['p50_ms']:6.1f} ms p99 {g['p99_ms']:6.1f} ms  errors {g['errors']}")
    typer.echo(f"wrote {out}")


if __name__ == "__main__":
    app()
