"""Scale-out, measured: two gateway replicas on one store, concurrent writers and concurrent exports.

    python -m benchmarks.scale_out --model-base-dir artifacts/serving                  # SQLite file
    python -m benchmarks.scale_out --model-base-dir artifacts/serving --database-url postgresql+psycopg://...

Starts two `lexflow serve` replicas (in-process backend) on one store, one model base dir and one
export data root, then measures:

- **Exports, exactly once.** `--writers` threads classify a unique text and send feedback for it
  (alternating replicas) while one exporter per replica calls POST /v1/feedback/export every
  `--export-every` seconds; then a final export. Audit: every feedback row acknowledged (201) is
  in exactly one span (matched by its unique text), no span holds a row twice, no span folder was
  written by two exports; every status code is counted (5xx must be 0; 409 = an exporter gave up
  waiting for another one).
- **Routing propagation.** PUT /v1/routing on replica A, then poll replica B's GET /v1/routing
  until it reports the new revision in effect: the delay, over `--trials` changes.

Writes benchmarks/results/scale_out[-postgresql].json. Exits 1 when the audit fails.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import httpx
import typer

from benchmarks.load_test import TEXTS, Gateway, spawn_gateway, stop_gateway, wait_ready
from core import model_dir

REPO = Path(__file__).resolve().parent.parent
app = typer.Typer(add_completion=False)


def start_replicas(
    count: int,
    model_base_dir: Path,
    workdir: Path,
    database_url: str,
    data_root: Path,
    api_key: str,
    env: Optional[dict[str, str]] = None,
) -> list[Gateway]:
    settings = {"LEXFLOW_EXPORT_DATA_ROOT": str(data_root), "LEXFLOW_ROUTING_REFRESH_SECONDS": "0.5", **(env or {})}
    replicas = [
        spawn_gateway(
            model_base_dir,
            workdir / f"unused-{i}.sqlite",
            workdir / f"gateway-{i}.log",
            api_key=api_key,
            database_url=database_url,
            env=settings,
        )
        for i in range(count)
    ]
    try:
        for replica in replicas:
            wait_ready(replica.url, replica.process)
    except Exception:
        for replica in replicas:
            stop_gateway(replica)
        raise
    return replicas


@dataclass
class WriteLog:
    statuses: Counter = field(default_factory=Counter)  # (operation, status or error)
    acked: dict = field(default_factory=dict)  # feedback id -> text
    failures: list = field(default_factory=list)

    def count(self, operation: str, outcome: str, detail: str = "") -> None:
        self.statuses[(operation, outcome)] += 1
        if (outcome.startswith("5") or not outcome.isdigit()) and len(self.failures) < 5:
            self.failures.append(f"{operation}: {outcome} {detail[:200]}")


def _write(url: str, headers: dict, stop: threading.Event, log: WriteLog, labelled: list[tuple[str, str]]) -> None:
    """classify a unique text, then correct it; until `stop` or the connection dies."""
    with httpx.Client(base_url=url, timeout=60) as client:
        n = 0
        while not stop.is_set():
            text, label = labelled[n % len(labelled)]
            text, n = f"{text} (ref {uuid.uuid4().hex})", n + 1
            try:
                answer = client.post("/v1/classify", json={"texts": [text]})
                log.count("classify", str(answer.status_code), answer.text)
                if answer.status_code != 200:
                    continue
                body = {"prediction_id": answer.json()["predictions"][0]["prediction_id"], "label": label}
                feedback = client.post("/v1/feedback", json=body, headers=headers)
                log.count("feedback", str(feedback.status_code), feedback.text)
                if feedback.status_code == 201:
                    log.acked[feedback.json()["id"]] = text
            except httpx.HTTPError as exc:
                log.count("transport", type(exc).__name__, str(exc))
                return


def _export(url: str, headers: dict, stop: threading.Event, every: float, min_rows: int, log: WriteLog) -> None:
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.wait(every):
            try:
                answer = client.post("/v1/feedback/export", params={"min_rows": min_rows}, headers=headers)
                log.count("export", str(answer.status_code), answer.text)
            except httpx.HTTPError as exc:
                log.count("export", type(exc).__name__, str(exc))


def run_writers_and_exporters(
    urls: list[str],
    api_key: str,
    writers: int,
    duration: float,
    export_every: float,
    min_rows: int = 1,
    labelled: Optional[list[tuple[str, str]]] = None,
) -> WriteLog:
    headers = {"X-API-Key": api_key}
    labelled = labelled or [(t, "governing_law") for t in TEXTS]
    log, stop = WriteLog(), threading.Event()
    threads = [
        threading.Thread(target=_write, args=(urls[i % len(urls)], headers, stop, log, labelled), daemon=True)
        for i in range(writers)
    ] + [
        threading.Thread(target=_export, args=(url, headers, stop, export_every, min_rows, log), daemon=True)
        for url in urls
    ]
    for thread in threads:
        thread.start()
    time.sleep(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=180)
    final = httpx.post(f"{urls[0]}/v1/feedback/export", headers=headers, timeout=180)
    log.count("export", str(final.status_code), final.text)
    return log


def span_rows(data_root: Path) -> dict[int, list[str]]:
    """span -> the texts of its feedback.csv (every exported span)."""
    found = {}
    for path in sorted(Path(data_root).glob("span-*/feedback.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            found[int(path.parent.name.split("-", 1)[1])] = [row["text"] for row in csv.DictReader(handle)]
    return found


def audit_exports(log: WriteLog, data_root: Path) -> dict:
    spans = span_rows(data_root)
    written = Counter(text for rows in spans.values() for text in rows)
    acked = list(log.acked.values())
    missing = [t for t in acked if written[" ".join(t.split())] == 0]
    duplicated = [t for t, n in written.items() if n > 1]
    statuses = {f"{op} {outcome}": n for (op, outcome), n in sorted(log.statuses.items())}
    server_errors = sum(n for (op, outcome), n in log.statuses.items() if outcome.startswith("5"))
    return {
        "feedback_acknowledged": len(acked),
        "rows_in_spans": sum(written.values()),
        "acknowledged_missing_from_spans": len(missing),
        "rows_in_more_than_one_place": len(duplicated),
        "rows_not_acknowledged": sum(written.values()) - (len(acked) - len(missing)),
        "spans_written": len(spans),
        "server_errors_5xx": server_errors,
        "statuses": statuses,
        "failures": log.failures,
        "passed": not missing and not duplicated and server_errors == 0,
    }


def routing_propagation(url_a: str, url_b: str, api_key: str, versions: list[int], trials: int) -> dict:
    """PUT on A, poll B until the new revision is in effect there: seconds, per trial."""
    headers = {"X-API-Key": api_key}
    delays = []
    with httpx.Client(timeout=30) as client:
        for trial in range(trials):
            body = {"staging": versions[trial % len(versions)], "canary_share": round(0.1 + trial / (2 * trials), 3)}
            changed = client.put(f"{url_a}/v1/routing", json=body, headers=headers)
            changed.raise_for_status()
            revision, start = changed.json()["revision"], time.perf_counter()
            while True:
                seen = client.get(f"{url_b}/v1/routing").json()
                if seen["revision"] >= revision and seen["in_effect"]:
                    delays.append(time.perf_counter() - start)
                    break
                if time.perf_counter() - start > 60:
                    raise RuntimeError(f"revision {revision} not in effect on {url_b} after 60 s")
                time.sleep(0.01)
    return {
        "trials": trials,
        "delay_seconds_min": min(delays),
        "delay_seconds_median": statistics.median(delays),
        "delay_seconds_max": max(delays),
    }


@app.command()
def main(
    model_base_dir: Path = typer.Option(Path("artifacts/serving"), help="Holds lexflow/<version>/ (a pushed model)."),
    database_url: Optional[str] = typer.Option(None, help="PostgreSQL URL; default: a fresh SQLite file."),
    writers: int = typer.Option(16, help="Concurrent classify+feedback clients (over both replicas)."),
    duration: float = typer.Option(20.0, help="Seconds of writing and exporting."),
    export_every: float = typer.Option(0.1, help="Seconds between exports, per replica."),
    trials: int = typer.Option(10, help="Routing changes timed."),
) -> None:
    versions = model_dir.versions(p.name for p in (model_base_dir / "lexflow").iterdir())
    if not versions:
        raise typer.BadParameter(f"no version under {model_base_dir / 'lexflow'}: run the pipeline first")
    with tempfile.TemporaryDirectory(prefix="lexflow-scale-out-") as tmp:
        workdir = Path(tmp)
        data_root = workdir / "data"
        url = database_url or f"sqlite:///{workdir / 'feedback.sqlite'}"
        key = "scale-out-key"
        replicas = start_replicas(2, model_base_dir, workdir, url, data_root, key)
        try:
            urls = [r.url for r in replicas]
            propagation = routing_propagation(urls[0], urls[1], key, versions, trials)
            httpx.put(f"{urls[0]}/v1/routing", json={"staging": None, "canary_share": 0}, headers={"X-API-Key": key})
            log = run_writers_and_exporters(urls, key, writers, duration, export_every)
            exports = audit_exports(log, data_root)
        finally:
            for replica in replicas:
                stop_gateway(replica)
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    result = {
        "store": dialect,
        "replicas": 2,
        "writers": writers,
        "duration_seconds": duration,
        "export_every_seconds": export_every,
        "exports": exports,
        "routing_propagation": propagation,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "python": platform.python_version()},
    }
    out = REPO / "benchmarks" / "results" / f"scale_out-{dialect}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    typer.echo(json.dumps(result, indent=2))
    if not exports["passed"]:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
