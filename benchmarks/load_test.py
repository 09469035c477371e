"""Bounded load test of the gateway: concurrent clients mixing classify and feedback, then an audit.

    python -m benchmarks.load_test [--duration 60] [--clients 32] [--model-base-dir artifacts/serving]
    python -m benchmarks.load_test --url http://127.0.0.1:8080 --api-key KEY   # a gateway already running

Without --url it starts its own gateway on loopback (`lexflow serve` in a subprocess: in-process
backend, a fresh SQLite store with synchronous writes, an API key so feedback goes through the
auth path) and stops it afterwards. Each client thread loops until the deadline: classify one
text, then, for a share of the answers, send feedback (a label from the returned classes) for
the prediction id it got. Nothing runs longer than --duration plus one request timeout.

Afterwards it audits: every feedback the API acknowledged (201) must be listed by
GET /v1/feedback with the same prediction id and label, and, when it started the gateway
itself, every acknowledged prediction id must be in the SQLite file, which must pass
`PRAGMA integrity_check` and `PRAGMA foreign_key_check`. It passes when there is no 5xx, no
transport error and nothing acknowledged is missing. Writes benchmarks/results/load.json and
exits 1 when it did not pass.
"""

from __future__ import annotations

import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import httpx
import typer

TEXTS = [
    "This Agreement shall be governed by the laws of the State of New York.",
    "Either party may terminate this Agreement upon thirty (30) days prior written notice.",
    "The Receiving Party shall hold all Confidential Information in strict confidence.",
    "IN NO EVENT SHALL EITHER PARTY BE LIABLE FOR ANY CONSEQUENTIAL DAMAGES.",
    "Licensee shall pay the fees set out in Schedule B within 45 days of each invoice.",
    "Any dispute arising out of this Agreement shall be settled by binding arbitration in London.",
]
REPO = Path(__file__).resolve().parent.parent
app = typer.Typer(add_completion=False)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gateway:
    process: subprocess.Popen
    url: str
    database: Path
    log: Path


def wait_ready(url: str, process: Optional[subprocess.Popen] = None, timeout: float = 240.0) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode} before it was ready")
        if time.time() > deadline:
            raise RuntimeError(f"gateway at {url} not ready after {timeout:.0f} s")
        time.sleep(0.3)


def spawn_gateway(
    model_base_dir: Path,
    database: Path,
    log: Path,
    api_key: Optional[str] = None,
    port: Optional[int] = None,
    database_url: Optional[str] = None,
    env: Optional[dict[str, str]] = None,
) -> Gateway:
    """`lexflow serve` in a subprocess (the way it runs in production: its own process, real sockets).
    The store is the SQLite file `database`, or `database_url` (PostgreSQL); `env` adds LEXFLOW_* settings."""
    port = port or free_port()
    environment = {**os.environ, "LEXFLOW_POLL_SECONDS": "1", **(env or {})}
    environment.pop("LEXFLOW_API_KEY", None)
    if api_key:
        environment["LEXFLOW_API_KEY"] = api_key
    command = [
        sys.executable,
        "-m",
        "lexflow.cli",
        "serve",
        "--port",
        str(port),
        "--model-base-dir",
        str(Path(model_base_dir).absolute()),
        "--database-url",
        database_url or f"sqlite:///{database}",
    ]
    handle = log.open("ab")
    process = subprocess.Popen(command, cwd=REPO, env=environment, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    return Gateway(process, f"http://127.0.0.1:{port}", database, log)


def stop_gateway(gateway: Gateway) -> None:
    if gateway.process.poll() is None:
        gateway.process.terminate()
        try:
            gateway.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            gateway.process.kill()
            gateway.process.wait(timeout=30)


@contextmanager
def running_gateway(model_base_dir: Path, workdir: Path, api_key: Optional[str]) -> Iterator[Gateway]:
    gateway = spawn_gateway(model_base_dir, workdir / "feedback.sqlite", workdir / "gateway.log", api_key)
    try:
        wait_ready(gateway.url, gateway.process)
        yield gateway
    finally:
        stop_gateway(gateway)


@dataclass
class ClientLog:
    """What one client saw. `acked_feedback` holds only feedback the API answered 201 to."""

    statuses: Counter = field(default_factory=Counter)  # (operation, status or error name)
    latencies: dict = field(default_factory=lambda: {"classify": [], "feedback": []})
    acked_predictions: list = field(default_factory=list)  # prediction ids from 200 answers
    acked_feedback: dict = field(default_factory=dict)  # feedback id -> (prediction id, label)
    failures: list = field(default_factory=list)  # first few 5xx / transport errors


def _client_loop(url: str, headers: dict, deadline: float, seed: int, feedback_share: float, log: ClientLog) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=30) as client:
        while time.perf_counter() < deadline:
            ok = _call(client, log, "classify", "POST", "/v1/classify", {"texts": [rng.choice(TEXTS)]}, headers)
            if ok is None or ok.status_code != 200:
                continue
            prediction = ok.json()["predictions"][0]
            log.acked_predictions.append(prediction["prediction_id"])
            if rng.random() >= feedback_share or time.perf_counter() >= deadline:
                continue
            label = rng.choice(sorted(prediction["scores"]))
            body = {"prediction_id": prediction["prediction_id"], "label": label}
            answer = _call(client, log, "feedback", "POST", "/v1/feedback", body, headers)
            if answer is not None and answer.status_code == 201:
                log.acked_feedback[answer.json()["id"]] = (prediction["prediction_id"], label)


def _call(
    client: httpx.Client, log: ClientLog, operation: str, method: str, path: str, body: dict, headers: dict
) -> Optional[httpx.Response]:
    start = time.perf_counter()
    try:
        response = client.request(method, path, json=body, headers=headers)
    except httpx.HTTPError as exc:
        log.statuses[(operation, type(exc).__name__)] += 1
        if len(log.failures) < 5:
            log.failures.append(f"{operation}: {type(exc).__name__}: {exc}")
        return None
    log.latencies[operation].append(time.perf_counter() - start)
    log.statuses[(operation, str(response.status_code))] += 1
    if response.status_code >= 500 and len(log.failures) < 5:
        log.failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
    return response


def generate_load(
    url: str, clients: int, duration: float, api_key: Optional[str] = None, feedback_share: float = 0.3, seed: int = 0
) -> list[ClientLog]:
    headers = {"X-API-Key": api_key} if api_key else {}
    deadline = time.perf_counter() + duration
    logs = [ClientLog() for _ in range(clients)]
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(url, headers, deadline, seed + i, feedback_share, logs[i]),
            name=f"load-client-{i}",
            daemon=True,
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)  # one request timeout past the deadline at most
    return logs


def list_all_feedback(url: str, api_key: Optional[str]) -> dict[int, dict]:
    headers = {"X-API-Key": api_key} if api_key else {}
    stored, after = {}, 0
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            page = client.get("/v1/feedback", params={"after_id": after, "limit": 1000}, headers=headers)
            page.raise_for_status()
            body = page.json()
            for item in body["items"]:
                stored[item["id"]] = item
            if body["next_after_id"] is None:
                return stored
            after = body["next_after_id"]


def check_sqlite_store(database: Path, prediction_ids: list[str]) -> dict:
    """Integrity of the SQLite file and presence of every acknowledged prediction id (the gateway has stopped)."""
    connection = sqlite3.connect(str(database), timeout=30)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign_key_violations = connection.execute("PRAGMA foreign_key_check").fetchall()
        stored = {row[0] for row in connection.execute("SELECT id FROM predictions")}
    finally:
        connection.close()
    missing = [p for p in prediction_ids if p not in stored]
    return {
        "integrity_check": integrity,
        "foreign_key_violations": len(foreign_key_violations),
        "predictions_stored": len(stored),
        "predictions_missing": len(missing),
        "missing_prediction_examples": missing[:5],
    }


def summarize(logs: list[ClientLog], elapsed: float, stored_feedback: dict[int, dict]) -> dict:
    statuses: Counter = Counter()
    for log in logs:
        statuses.update(log.statuses)
    latencies = {op: [x for log in logs for x in log.latencies[op]] for op in ("classify", "feedback")}
    everything = latencies["classify"] + latencies["feedback"]
    acked = {k: v for log in logs for k, v in log.acked_feedback.items()}
    missing = [
        fid
        for fid, (pid, label) in acked.items()
        if fid not in stored_feedback
        or (stored_feedback[fid]["prediction_id"], stored_feedback[fid]["label"]) != (pid, label)
    ]
    server_errors = sum(n for (_, status), n in statuses.items() if status.isdigit() and int(status) >= 500)
    transport_errors = sum(n for (_, status), n in statuses.items() if not status.isdigit())

    def lat(values: list[float]) -> dict:
        return {
            "count": len(values),
            "p50_ms": 1000 * percentile(values, 0.50),
            "p95_ms": 1000 * percentile(values, 0.95),
            "p99_ms": 1000 * percentile(values, 0.99),
            "max_ms": 1000 * max(values, default=float("nan")),
        }

    return {
        "elapsed_s": elapsed,
        "requests": len(everything),
        "rps": len(everything) / elapsed if elapsed else 0.0,
        "statuses": {f"{op} {status}": n for (op, status), n in sorted(statuses.items())},
        "server_errors_5xx": server_errors,
        "transport_errors": transport_errors,
        "latency": {"all": lat(everything), **{op: lat(v) for op, v in latencies.items()}},
        "predictions_acknowledged": sum(len(log.acked_predictions) for log in logs),
        "feedback_acknowledged": len(acked),
        "feedback_listed": len(stored_feedback),
        "feedback_missing": len(missing),
        "missing_feedback_examples": missing[:5],
        "failures": [f for log in logs for f in log.failures][:10],
    }


def run_load_test(
    url: Optional[str] = None,
    *,
    model_base_dir: Path = Path("artifacts/serving"),
    clients: int = 32,
    duration: float = 60.0,
    api_key: Optional[str] = None,
    feedback_share: float = 0.3,
    seed: int = 0,
    workdir: Optional[Path] = None,
) -> dict:
    """Run the load and the audit; return the result (see the module docstring). `passed` says it all."""
    load_before = os.getloadavg()
    if url is None:
        workdir = Path(workdir or tempfile.mkdtemp(prefix="lexflow-load-"))
        workdir.mkdir(parents=True, exist_ok=True)
        api_key = api_key or "load-test-key"
        with running_gateway(model_base_dir, workdir, api_key) as gateway:
            result = _run_against(gateway.url, clients, duration, api_key, feedback_share, seed)
            result["gateway"] = {
                "url": gateway.url,
                "database": str(gateway.database),
                "log": str(gateway.log),
                "started_by_load_test": True,
            }
        predictions = result.pop("_acked_predictions")
        # After the gateway stopped: the file is what a restart would find.
        result["store"] = check_sqlite_store(gateway.database, predictions)
    else:
        result = _run_against(url, clients, duration, api_key, feedback_share, seed)
        result.pop("_acked_predictions")
        result["gateway"] = {"url": url, "started_by_load_test": False}
    store = result.get("store", {})
    result["passed"] = (
        result["server_errors_5xx"] == 0
        and result["transport_errors"] == 0
        and result["feedback_missing"] == 0
        and result["requests"] > 0
        # No feedback accepted at all (e.g. a wrong --api-key) would make the audit vacuous.
        and (feedback_share == 0 or result["feedback_acknowledged"] > 0)
        and store.get("integrity_check", ["ok"]) == ["ok"]
        and store.get("foreign_key_violations", 0) == 0
        and store.get("predictions_missing", 0) == 0
    )
    result.update(
        {
            "clients": clients,
            "duration_s": duration,
            "feedback_share": feedback_share,
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "loadavg_before": load_before,
                "loadavg_after": os.getloadavg(),
            },
        }
    )
    return result


def _run_against(
    url: str, clients: int, duration: float, api_key: Optional[str], feedback_share: float, seed: int
) -> dict:
    began = time.perf_counter()
    logs = generate_load(url, clients, duration, api_key, feedback_share, seed)
    elapsed = time.perf_counter() - began
    result = summarize(logs, elapsed, list_all_feedback(url, api_key))
    result["_acked_predictions"] = [p for log in logs for p in log.acked_predictions]
    return result


@app.command()
def main(
    duration: float = typer.Option(60.0, min=1.0, max=600.0, help="Seconds of load."),
    clients: int = typer.Option(32, min=1, max=256, help="Concurrent clients (threads)."),
    model_base_dir: Path = typer.Option(
        Path("artifacts/serving"), help="Holds lexflow/<version>/ (run the pipeline first)."
    ),
    url: Optional[str] = typer.Option(None, help="Test this running gateway instead of starting one."),
    api_key: Optional[str] = typer.Option(None, envvar="LEXFLOW_API_KEY", help="X-API-Key for feedback (with --url)."),
    feedback_share: float = typer.Option(0.3, min=0.0, max=1.0, help="Share of answers that get feedback."),
    out: Path = typer.Option(REPO / "benchmarks" / "results" / "load.json"),
    workdir: Optional[Path] = typer.Option(
        None, help="Where the started gateway keeps its store and log (default: a new temp dir)."
    ),
) -> None:
    if url is None and not any((model_base_dir / "lexflow").glob("*/saved_model.pb")):
        typer.echo(f"error: no model under {model_base_dir}/lexflow; run `python local_runner.py` first", err=True)
        raise typer.Exit(2)
    result = run_load_test(
        url,
        model_base_dir=model_base_dir,
        clients=clients,
        duration=duration,
        api_key=api_key,
        feedback_share=feedback_share,
        workdir=workdir,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    latency = result["latency"]["all"]
    typer.echo(
        f"{clients} clients x {duration:.0f} s: {result['requests']} requests ({result['rps']:.1f}/s), "
        f"p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms, 5xx {result['server_errors_5xx']}, "
        f"transport errors {result['transport_errors']}"
    )
    typer.echo(
        f"feedback acknowledged {result['feedback_acknowledged']}, missing {result['feedback_missing']}"
        + (
            f"; store integrity {result['store']['integrity_check']}, predictions missing "
            f"{result['store']['predictions_missing']}"
            if "store" in result
            else ""
        )
    )
    typer.echo(f"{'PASSED' if result['passed'] else 'FAILED'}; wrote {out}")
    if not result["passed"]:
        for failure in result["failures"]:
            typer.echo(f"  {failure}", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
