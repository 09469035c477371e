"""Bulk classification throughput: `lexflow classify` vs. the batched model backend, same rows, same model.

    python -m benchmarks.bulk_classify [--model-base-dir artifacts/serving] [--rows 1600] [--rounds 3]

Inputs: legal clauses from a `text` CSV (default: the CUAD clauses test split under
../shared/datasets if present, else the demo corpus), written as numbered `.txt` contracts of
`--per-document` clauses into a temporary folder (nothing is copied into the repository). One
model version is loaded once, with the gateway's own code (`LoadedModel`), and then, interleaved
`--rounds` times so that changes in a shared machine's load hit both alike:

- **backend**: the rows the splitter produced, scored by `LoadedModel.predict` (the gateway's
  in-process backend and its micro-batcher) in batches of `--batch-size`, one call after the other,
  nothing else: the most any bulk client in this process could get out of the model.
- **classify**: what `lexflow classify DIR --output FILE` does after loading the model: read every
  document, split it into provisions, score them in batches of `--batch-size` (each batch scored
  as soon as it is full, while later documents are read and split) and write the CSV.

The target: `classify_vs_backend_rps` >= 0.8 (pooled over the rounds). On a shared machine wall
times swing with the neighbours' load, so the CPU time of each pass (all threads of this process,
TensorFlow's included) is recorded too: `classify_vs_backend_cpu` is the ratio the two would have
on cores of their own. Also recorded, not part of the ratio: one run of
the real command in a subprocess (`python -m lexflow.cli classify`, Python and TensorFlow start-up and
the model load included). Writes benchmarks/results/bulk_classify.json.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import csv
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import typer

from benchmarks.suite_datasets import SHARED_DATASETS_DIR
from core import workspace
from lexflow.runs import classify as bulk

RESULTS = Path(__file__).parent / "results" / "bulk_classify.json"
CUAD = SHARED_DATASETS_DIR / "cuad_clauses" / "test.csv"
app = typer.Typer(add_completion=False)


def _clauses(source: Path, rows: int) -> list[str]:
    with source.open(newline="", encoding="utf-8") as handle:
        texts = [" ".join(r["text"].split()) for r in csv.DictReader(handle) if r.get("text", "").strip()]
    if not texts:
        raise typer.BadParameter(f"{source}: no `text` rows")
    return [texts[i % len(texts)] for i in range(rows)]


def _write_documents(clauses: list[str], folder: Path, per_document: int) -> int:
    """Numbered contracts ("1. ...", blank line between sections), like a plain-text export."""
    count = 0
    for start in range(0, len(clauses), per_document):
        sections = [f"{i + 1}. {text}" for i, text in enumerate(clauses[start : start + per_document])]
        (folder / f"contract-{count:04d}.txt").write_text("\n\n".join(sections) + "\n", encoding="utf-8")
        count += 1
    return count


def _time_backend(model: Any, texts: list[str], batch_size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: every thread, TensorFlow's included)."""
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(texts), batch_size):
        model.predict(texts[i : i + batch_size])
    return time.perf_counter() - started, time.process_time() - cpu


def _time_classify(model: Any, folder: Path, out: Path, batch_size: int) -> tuple[float, float, int]:
    started, cpu = time.perf_counter(), time.process_time()
    with out.open("w", encoding="utf-8", newline="") as handle:
        written = bulk.classify_to(handle, bulk.rows(folder), model.predict, "csv", batch_size)
    return time.perf_counter() - started, time.process_time() - cpu, written


def _time_command(folder: Path, out: Path, model_base_dir: Path, batch_size: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "lexflow.cli", "classify", str(folder), "--output", str(out)]
    command += ["--model-base-dir", str(model_base_dir), "--batch-size", str(batch_size), "--no-progress"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"lexflow classify failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"seconds": seconds, "stderr_tail": done.stderr.strip().splitlines()[-1]}


@app.command()
def main(
    model_base_dir: Path = typer.Option(workspace.DEFAULT_SERVING_DIR, help="Holds <model>/<version>/."),
    model_name: str = typer.Option(workspace.DEFAULT_MODEL_NAME),
    data: Optional[Path] = typer.Option(None, help="A `text` CSV. Default: CUAD test split, else the demo corpus."),
    rows: int = typer.Option(1600, min=10, help="Clauses in all (the source is cycled if shorter)."),
    per_document: int = typer.Option(25, min=1, help="Clauses per generated contract."),
    batch_size: int = typer.Option(256, min=1, help="Texts per model call, both sides (lexflow classify's default)."),
    rounds: int = typer.Option(3, min=1),
    command: bool = typer.Option(True, "--command/--no-command", help="Also time the real command once."),
    out: Path = typer.Option(RESULTS),
) -> None:
    source = data or (CUAD if CUAD.is_file() else workspace.DEFAULT_DATA_ROOT / "span-0" / "corpus.csv")
    model_base_dir = workspace.resolve(model_base_dir)
    model = bulk.load_model(model_base_dir, model_name)
    with tempfile.TemporaryDirectory(prefix="lexflow-bulk-") as tmp:
        folder = Path(tmp) / "contracts"
        folder.mkdir()
        documents = _write_documents(_clauses(source, rows), folder, per_document)
        texts = [row.text for row in bulk.collect(folder)]
        model.predict(texts[:batch_size])  # warm-up: the first large batch pays graph and allocator set-up
        backend_s, classify_s, backend_cpu, classify_cpu, loads = [], [], [], [], []
        for _ in range(rounds):
            loads.append(os.getloadavg()[0])
            wall, cpu = _time_backend(model, texts, batch_size)
            backend_s.append(wall)
            backend_cpu.append(cpu)
            wall, cpu, written = _time_classify(model, folder, Path(tmp) / "out.csv", batch_size)
            assert written == len(texts), (written, len(texts))  # same rows in both
            classify_s.append(wall)
            classify_cpu.append(cpu)
        loads.append(os.getloadavg()[0])
        process = _time_command(folder, Path(tmp) / "out-cmd.csv", model_base_dir, batch_size) if command else None
    model.close()
    backend_rps = len(texts) * rounds / sum(backend_s)
    classify_rps = len(texts) * rounds / sum(classify_s)
    result = {
        "source": str(source),
        "documents": documents,
        "provisions": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "model_version": model.version,
        "batch_size": batch_size,
        "rounds": rounds,
        "backend_seconds": [round(s, 3) for s in backend_s],
        "classify_seconds": [round(s, 3) for s in classify_s],
        "backend_rps": round(backend_rps, 1),
        "classify_rps": round(classify_rps, 1),
        "classify_vs_backend_rps": round(classify_rps / backend_rps, 3),
        # CPU time per pass (all threads): what the throughput ratio is on a machine whose cores are all ours.
        "backend_cpu_seconds": [round(s, 3) for s in backend_cpu],
        "classify_cpu_seconds": [round(s, 3) for s in classify_cpu],
        "classify_vs_backend_cpu": round(sum(backend_cpu) / sum(classify_cpu), 3),
        "command_process": process,
        "load_average_1m": [round(load, 2) for load in loads],
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    typer.echo(json.dumps(result, indent=2))


if __name__ == "__main__":
    app()
