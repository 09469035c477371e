"""Crash: kill -9 the gateway (a real `lexflow serve` process) in the middle of a feedback stream.

Every feedback the API acknowledged (201 received by the client) and every prediction id it
handed out must be in the store after the crash, the SQLite file must pass its integrity and
foreign-key checks, and a restarted gateway must serve the same rows and keep counting ids
upwards. (A process crash, not a power cut: the OS still flushes what the process wrote. The
store's synchronous=FULL is what covers the power cut; see RELIABILITY.md.)
"""

import os
import shutil
import signal
import sqlite3
import threading
import time

import httpx
import pytest

from benchmarks.load_test import TEXTS, list_all_feedback, spawn_gateway, stop_gateway, wait_ready

pytestmark = pytest.mark.e2e
KEY = "crash-test-key"


def _stream(url: str, seed: int, acked_feedback: dict, acked_predictions: list, stop: threading.Event):
    """classify -> feedback, as fast as possible, until the connection dies or `stop`."""
    headers = {"X-API-Key": KEY}
    with httpx.Client(base_url=url, timeout=10) as client:
        n = seed
        while not stop.is_set():
            n += 1
            try:
                answer = client.post("/v1/classify", json={"texts": [TEXTS[n % len(TEXTS)]]})
                if answer.status_code != 200:
                    continue
                prediction = answer.json()["predictions"][0]
                acked_predictions.append(prediction["prediction_id"])
                label = sorted(prediction["scores"])[n % len(prediction["scores"])]
                feedback = client.post(
                    "/v1/feedback", json={"prediction_id": prediction["prediction_id"], "label": label}, headers=headers
                )
                if feedback.status_code == 201:
                    acked_feedback[feedback.json()["id"]] = (prediction["prediction_id"], label)
            except (httpx.HTTPError, ValueError):
                return  # the server is gone; whatever was in flight was never acknowledged


def test_kill_9_mid_feedback_stream_loses_nothing_acknowledged(pipeline_run, tmp_path):
    base = tmp_path / "serving"
    shutil.copytree(pipeline_run.model_dir, base / "lexflow" / pipeline_run.model_dir.name)
    database, log = tmp_path / "feedback.sqlite", tmp_path / "gateway.log"

    gateway = spawn_gateway(base, database, log, api_key=KEY)
    acked_feedback, acked_predictions, stop = {}, [], threading.Event()
    try:
        wait_ready(gateway.url, gateway.process)
        clients = [
            threading.Thread(target=_stream, args=(gateway.url, 1000 * i, acked_feedback, acked_predictions, stop))
            for i in range(8)
        ]
        for thread in clients:
            thread.start()
        deadline = time.time() + 60
        while len(acked_feedback) < 60 and time.time() < deadline:
            time.sleep(0.05)
        # While 8 clients have requests in flight: no shutdown hooks, no flush, no goodbye.
        os.kill(gateway.process.pid, signal.SIGKILL)
        assert gateway.process.wait(timeout=30) == -signal.SIGKILL
        for thread in clients:
            thread.join(timeout=30)
    finally:
        stop.set()
        stop_gateway(gateway)
    assert len(acked_feedback) >= 60, f"only {len(acked_feedback)} feedback acknowledged before the deadline"
    acked_at_kill = dict(acked_feedback)

    # The file as the crash left it (the WAL is replayed on open, as the restarted gateway would).
    connection = sqlite3.connect(str(database), timeout=30)
    try:
        assert [r[0] for r in connection.execute("PRAGMA integrity_check")] == ["ok"]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        feedback = {
            row[0]: (row[1], row[2]) for row in connection.execute("SELECT id, prediction_id, label FROM feedback")
        }
        predictions = {row[0] for row in connection.execute("SELECT id FROM predictions")}
    finally:
        connection.close()
    lost = {fid: v for fid, v in acked_at_kill.items() if feedback.get(fid) != v}
    assert not lost, (
        f"{len(lost)} of {len(acked_at_kill)} acknowledged feedback rows lost or altered: {list(lost.items())[:5]}"
    )
    assert not set(acked_predictions) - predictions, "acknowledged prediction ids lost"

    # Restart on the same file: migrations are a no-op, the rows are served, ids keep growing.
    restarted = spawn_gateway(base, database, log, api_key=KEY)
    try:
        wait_ready(restarted.url, restarted.process)
        listed = list_all_feedback(restarted.url, KEY)
        assert all((listed[fid]["prediction_id"], listed[fid]["label"]) == v for fid, v in acked_at_kill.items())
        assert httpx.get(f"{restarted.url}/v1/health", timeout=30).json()["feedback"] == len(feedback)
        prediction_id = httpx.post(f"{restarted.url}/v1/classify", json={"texts": TEXTS[0]}, timeout=30).json()[
            "predictions"
        ][0]["prediction_id"]
        after = httpx.post(
            f"{restarted.url}/v1/feedback",
            json={"prediction_id": prediction_id, "label": "governing_law"},
            headers={"X-API-Key": KEY},
            timeout=30,
        )
        assert after.status_code == 201 and after.json()["id"] > max(feedback)
    finally:
        stop_gateway(restarted)
