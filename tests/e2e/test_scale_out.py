"""deploy/ on one machine: a real PostgreSQL, two `lexflow serve` replicas and `lexflow retrain`
sharing one store, one data root and one model base directory (TF Serving aside: the replicas
use the in-process backend; tests/serving/test_tfserving_backends.py covers the TF Serving path).

In order: a routing change on one replica takes effect on the other; concurrent writers and
exports through both replicas put every acknowledged feedback row in exactly one span;
`lexflow retrain` ingests those spans and pushes a new version; both replicas serve it without a
restart; `kill -9` on one replica in the middle of a write stream loses no acknowledged write.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text

from benchmarks.load_test import stop_gateway
from benchmarks.scale_out import audit_exports, run_writers_and_exporters, span_rows, start_replicas
from tests.conftest import REPO, SCHEMA

pytestmark = pytest.mark.e2e
KEY = "scale-out-key"


def _database(postgres_url: str) -> str:
    name = f"scale_{uuid.uuid4().hex[:10]}"
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


def _classify(url: str) -> dict:
    return httpx.post(f"{url}/v1/classify", json={"texts": ["Governed by the laws of Delaware."]}, timeout=60).json()


def _until(predicate, timeout: float, every: float = 0.2) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"not within {timeout} s"
        time.sleep(every)
    return time.monotonic() - start


@pytest.fixture
def loop(pipeline_run, postgres_url, tmp_path):
    """The session's pipeline run (span 0, one pushed version) copied into a private deployment."""
    source = pipeline_run.config
    shutil.copytree(source.data_root, tmp_path / "data")
    shutil.copytree(source.serving_dir, tmp_path / "serving")
    shutil.copy(source.metadata_path, tmp_path / "metadata.sqlite")
    version = int(pipeline_run.model_dir.name)
    # A second, older version to route between (a copy: the same model under another number).
    shutil.copytree(
        tmp_path / "serving" / "lexflow" / str(version), tmp_path / "serving" / "lexflow" / str(version - 1)
    )
    return tmp_path, _database(postgres_url), version


def test_two_replicas_one_store_the_loop_closes_and_a_crash_loses_nothing(loop):
    from datagen import generate_rows

    root, database_url, version = loop
    replicas = start_replicas(
        2, root / "serving", root, database_url, root / "data", KEY, {"LEXFLOW_POLL_SECONDS": "1"}
    )
    a, b = (r.url for r in replicas)
    key = {"X-API-Key": KEY}
    try:
        # 1. Routing: a change on A is in effect on B.
        assert _classify(b)["model_version"] == version
        changed = httpx.put(f"{a}/v1/routing", json={"staging": version - 1, "canary_share": 1.0}, headers=key)
        assert changed.status_code == 200, changed.text
        delay = _until(lambda: _classify(b)["model_version"] == version - 1, timeout=15, every=0.05)
        assert _classify(b)["route"] == "staging"
        httpx.put(f"{b}/v1/routing", json={"staging": None, "canary_share": 0.0}, headers=key)
        _until(lambda: _classify(a)["route"] == "production", timeout=15)
        assert json.loads((root / "serving" / "lexflow" / "routing.json").read_text())["staging"] is None

        # 2. Concurrent writers and exports through both replicas: every acknowledged row exactly once.
        labelled = [(r["text"], r["label"]) for r in generate_rows(200, seed=23)]
        log = run_writers_and_exporters(
            [a, b], KEY, writers=8, duration=12, export_every=0.2, min_rows=150, labelled=labelled
        )
        audit = audit_exports(log, root / "data")
        assert audit["passed"], audit
        assert audit["feedback_acknowledged"] >= 50 and audit["rows_not_acknowledged"] == 0, audit

        # 3. Retraining (the real command) ingests the spans and pushes a new version ...
        config = root / "retrain.json"
        config.write_text(
            json.dumps(
                {
                    # The served model's name (a run is otherwise named after its data root, "data").
                    "model_name": "lexflow",
                    "schema_path": str(SCHEMA),
                    "transform": {"vocab_size": 5000},
                    "train": {"train_steps": 150, "eval_steps": 5, "hidden_units": 64},
                    "tuning": {"enabled": False},  # explicit settings: a short run
                    # The loop's mechanics are under test here, not model quality: bless what trains.
                    "thresholds": {
                        "min_accuracy": 0.3,
                        "min_macro_f1": 0.2,
                        "max_accuracy_drop": 1.0,
                        "max_macro_f1_drop": 1.0,
                    },
                }
            )
        )
        paths = {
            "--data-root": root / "data",
            "--serving-dir": root / "serving",
            "--pipeline-root": root / "pipeline",
            "--metadata-path": root / "metadata.sqlite",
            "--database-url": database_url,
        }
        options = [str(part) for option in paths.items() for part in option]
        retrain = subprocess.run(
            [sys.executable, "-m", "lexflow.cli", "retrain", "--force", "--config", str(config), *options],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1500,
            env={**os.environ, "LEXFLOW_HOME": str(root)},
        )
        assert retrain.returncode == 0, retrain.stdout[-3000:] + retrain.stderr[-3000:]
        pushed = sorted(int(p.name) for p in (root / "serving" / "lexflow").iterdir() if p.name.isdigit())
        assert pushed[-1] > version, (pushed, retrain.stdout[-2000:])
        exported = sorted(span_rows(root / "data"))
        for span in (exported[0], exported[-1]):  # the new version was trained on the exported spans (MLMD)
            metadata = str(root / "metadata.sqlite")
            lineage = subprocess.run(
                [sys.executable, "-m", "lexflow.cli", "lineage", "--span", str(span), "--metadata-path", metadata],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert str(pushed[-1]) in lineage.stdout, (span, lineage.stdout, lineage.stderr[-2000:])

        # ... which both replicas serve, without a restart.
        for url in (a, b):
            _until(lambda url=url: _classify(url)["model_version"] == pushed[-1], timeout=120, every=0.5)

        # 4. kill -9 one replica in the middle of a write stream: nothing acknowledged is lost.
        acked: dict[int, str] = {}
        stop = threading.Event()

        def stream(url: str) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        answer = client.post("/v1/classify", json={"texts": [f"Crash clause {uuid.uuid4().hex}."]})
                        pid = answer.json()["predictions"][0]["prediction_id"]
                        fed = client.post(
                            "/v1/feedback", json={"prediction_id": pid, "label": "termination"}, headers=key
                        )
                        if fed.status_code == 201:
                            acked[fed.json()["id"]] = pid
                    except (httpx.HTTPError, KeyError, ValueError):
                        return  # the replica is gone; what was in flight was never acknowledged

        writers = [threading.Thread(target=stream, args=(url,)) for url in (a, b, b, b)]
        for thread in writers:
            thread.start()
        _until(lambda: len(acked) >= 40, timeout=120, every=0.05)
        os.kill(replicas[1].process.pid, signal.SIGKILL)
        assert replicas[1].process.wait(timeout=30) == -signal.SIGKILL
        time.sleep(1)
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
        engine = create_engine(database_url)
        with engine.connect() as connection:
            stored = dict(connection.execute(text("SELECT id, prediction_id FROM feedback")).tuples().all())
        engine.dispose()
        lost = {fid: pid for fid, pid in acked.items() if stored.get(fid) != pid}
        assert not lost, f"{len(lost)} of {len(acked)} acknowledged feedback rows lost"
        assert httpx.get(f"{a}/readyz", timeout=30).status_code == 200  # the survivor serves on
    finally:
        for replica in replicas:
            stop_gateway(replica)
    print(
        f"\nrouting change on A in effect on B after {delay:.2f} s; exports: {audit}; "
        f"kill -9 of B: {len(acked)} feedback rows acknowledged by A and B by then, {len(lost)} lost"
    )
