"""Where a classify request waits inside the gateway: the micro-batcher's model calls and the group commits.

    python -m benchmarks.serving_stages [--model-base-dir artifacts/serving] [--clients 32] [--seconds 5]
        [--runs 3]

Starts `lexflow serve` in a subprocess (its own SQLite store, as `benchmarks/serving_bench.py`)
with two calls wrapped: the model call of each `MicroBatcher` batch and the write of each
`GroupCommitter` group. Each call records its size (texts or rows), its wall time and the CPU
time of the thread that made it. The gateway is driven by serving_bench's closed-loop HTTP/1.1
client, and each run reports requests/s, p50, the server's CPU per request and, per stage: calls,
mean size, mean wall and CPU milliseconds per call, and the share of the run the stage was busy.
A request goes through both stages in series (scored, then committed, then answered), so where
neither is busy most of the time, the chain between them, not a stage, bounds throughput.
A diagnostic: the wrapping adds a little CPU. Writes benchmarks/results/serving_stages.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from benchmarks.serving_bench import _free_port, _process_cpu, _wait_ready, run_http_load

STAGES = ("model_call", "commit")
app = typer.Typer(add_completion=False)


def stage_summary(records: list[list[float]], start: float, end: float) -> dict[str, Any]:
    """Calls that began in [start, end): `records` are (began, ended, size, cpu seconds) in monotonic time."""
    inside = [r for r in records if start <= r[0] < end]
    if not inside:
        return {"calls": 0}
    n = len(inside)
    return {
        "calls": n,
        "mean_size": round(sum(r[2] for r in inside) / n, 2),
        "wall_ms_per_call": round(1000 * sum(r[1] - r[0] for r in inside) / n, 3),
        "cpu_ms_per_call": round(1000 * sum(r[3] for r in inside) / n, 3),
        "busy_share": round(sum(min(r[1], end) - r[0] for r in inside) / (end - start), 3),
    }


def _serve_wrapped(stats: Path, port: int) -> None:
    """`lexflow serve` with the stages' calls timed; what they recorded is written to `stats` twice a second."""
    from feedback import group_commit
    from lexflow.cli.serve import serve
    from serving.backends import batching

    records: dict[str, list[list[float]]] = {name: [] for name in STAGES}

    def timed(stage: str, call: Callable[[list], Any]) -> Callable[[list], Any]:
        def run(items: list) -> Any:
            began, cpu = time.monotonic(), time.thread_time()
            try:
                return call(items)
            finally:
                records[stage].append([began, time.monotonic(), len(items), time.thread_time() - cpu])

        return run

    batcher_init, committer_init = batching.MicroBatcher.__init__, group_commit.GroupCommitter.__init__

    def batcher(self: Any, predict: Callable, *args: Any, **kwargs: Any) -> None:
        batcher_init(self, timed("model_call", predict), *args, **kwargs)

    def committer(self: Any, write: Callable, *args: Any, **kwargs: Any) -> None:
        committer_init(self, timed("commit", write), *args, **kwargs)

    batching.MicroBatcher.__init__ = batcher  # type: ignore[method-assign]
    group_commit.GroupCommitter.__init__ = committer  # type: ignore[method-assign]

    def dump() -> None:
        while True:
            time.sleep(0.5)
            tmp = stats.with_suffix(".tmp")
            tmp.write_text(json.dumps({name: list(calls) for name, calls in records.items()}))
            tmp.replace(stats)

    threading.Thread(target=dump, name="stage-stats", daemon=True).start()
    serve(host="127.0.0.1", port=port, model_base_dir=None, database_url=None)


@app.command()
def main(
    model_base_dir: Path = typer.Option(Path("artifacts/serving"), help="Holds lexflow/<version>/."),
    clients: int = typer.Option(32, min=1),
    seconds: float = typer.Option(5.0, min=1.0, max=120.0),
    runs: int = typer.Option(3, min=1, max=10),
    out: Path = typer.Option(Path("benchmarks/results/serving_stages.json")),
    serve_stats: Optional[Path] = typer.Option(None, "--serve-stats", hidden=True),
    serve_port: int = typer.Option(0, "--serve-port", hidden=True),
) -> None:
    if serve_stats is not None:  # the gateway side (this module in the subprocess)
        _serve_wrapped(serve_stats, serve_port)
        return
    if not (model_base_dir / "lexflow").is_dir():
        typer.echo(f"error: no model under {model_base_dir}/lexflow; run `python local_runner.py` first", err=True)
        raise typer.Exit(2)
    workdir = Path(tempfile.mkdtemp(prefix="lexflow-stages-"))
    stats, port = workdir / "stages.json", _free_port()
    env = {
        **os.environ,
        "LEXFLOW_MODEL_BASE_DIR": str(model_base_dir.absolute()),
        "LEXFLOW_DATABASE_URL": f"sqlite:///{workdir}/feedback.sqlite",
    }
    command = [sys.executable, "-m", "benchmarks.serving_stages", "--serve-stats", str(stats)]
    server = subprocess.Popen(
        [*command, "--serve-port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    results = []
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
        run_http_load("127.0.0.1", port, clients, 1.0)  # warm-up
        for _ in range(runs):
            load = os.getloadavg()[0]
            cpu0, start = _process_cpu(server.pid), time.monotonic()
            run = run_http_load("127.0.0.1", port, clients, seconds)
            end, cpu1 = time.monotonic(), _process_cpu(server.pid)
            results.append(
                {
                    "rps": round(run["rps"], 1),
                    "p50_ms": round(run["p50_ms"], 2),
                    "p99_ms": round(run["p99_ms"], 2),
                    "errors": run["errors"],
                    "server_cpu_us_per_request": round(1e6 * (cpu1 - cpu0) / max(run["requests"], 1), 1),
                    "load_1min": [round(load, 2), round(os.getloadavg()[0], 2)],
                    "window": [start, end],
                }
            )
        time.sleep(1.2)  # the gateway's last dump covers every call of the last run
        recorded = json.loads(stats.read_text())
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
    for result in results:
        start, end = result.pop("window")
        result.update({name: stage_summary(recorded[name], start, end) for name in STAGES})
        typer.echo(json.dumps(result))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "clients": clients, "seconds": seconds, "runs": results},
            indent=2,
        )
        + "\n"
    )
    typer.echo(f"wrote {out}")


if __name__ == "__main__":
    app()
