"""The feedback store (a real PostgreSQL) goes down while the gateway serves, and comes back.

Every answer meanwhile is a JSON 503 (never a plain-text 500, never a stack trace), /readyz says
not ready, /metrics still answers with lexflow_store_up 0, and the gateway recovers by itself
(no restart) once the database is back. No model needed: the stand-in backend.
"""

import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.postgres import PostgresServer, pg_bin
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


@pytest.fixture
def server():
    if pg_bin() is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="lexflow-pg-down-"))
    server = PostgresServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _until(predicate, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s")


def test_database_down_gives_json_503_not_ready_and_recovers_by_itself(server, tmp_path):
    settings = {"database_url": server.url, "routing_refresh_seconds": 0.2, "metrics_cache_seconds": 0}
    with gateway(tmp_path, allow_unauthenticated_text_listing=True, **settings) as client:
        prediction_id = client.post("/v1/classify", json={"texts": GOVERNING}).json()["predictions"][0]["prediction_id"]
        assert client.get("/readyz").status_code == 200

        server.stop()
        stopped = time.monotonic()
        answers = {
            "classify": client.post("/v1/classify", json={"texts": GOVERNING}),
            "tf serving predict": client.post("/v1/models/lexflow:predict", json={"instances": [GOVERNING]}),
            "feedback": client.post("/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"}),
            "list": client.get("/v1/feedback"),
            "health": client.get("/v1/health"),
            "export": client.post("/v1/feedback/export"),
            "routing change": client.put("/v1/routing", json={"production": 7}),
        }
        first_503 = time.monotonic() - stopped
        for name, answer in answers.items():
            assert answer.status_code == 503, (name, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/json", name
            assert "feedback store unavailable" in answer.json()["error"], (name, answer.json())
            assert "Traceback" not in answer.text and "postgres@" not in answer.text
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"error": "feedback store unavailable"}
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "lexflow_store_up 0.0" in metrics.text
        assert client.get("/v1/routing").status_code == 200  # the last known routing keeps serving reads

        server.start()
        recovered = _until(lambda: client.get("/readyz").status_code == 200, timeout=30)
        assert client.post("/v1/classify", json={"texts": GOVERNING}).status_code == 200
        assert (
            client.post("/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"}).status_code
            == 201
        )
        assert "lexflow_store_up 1.0" in client.get("/metrics").text
        assert client.get("/v1/health").json()["predictions"] == 2  # nothing refused was stored
    print(f"\nstore down: every call a JSON 503 within {first_503:.2f} s; ready again {recovered:.2f} s after restart")


class StopsTheDatabase(StandInBackend):
    """Scores like the stand-in, and stops the database while a document's third batch is scored."""

    def __init__(self, server):
        super().__init__()
        self.server, self.stop_at = server, None

    async def predict_async(self, texts, version=None):
        if self.stop_at is not None and self.calls + 1 == self.stop_at:
            self.server.stop(mode="immediate")
        return await super().predict_async(texts, version)


def test_a_document_upload_when_the_database_stops_half_way_stores_nothing(server, tmp_path):
    """Issue 21: PostgreSQL stopped 7 s into an upload; the client got 503 "nothing was logged" yet
    5,952 predictions were stored without their document, and sat in the review queue. Now the
    document and its predictions are one transaction after the last batch."""
    backend = StopsTheDatabase(server)
    contract = "\n\n".join(
        f"{i}. Clause {i}. This Agreement shall be governed by the laws of Delaware." for i in range(1, 41)
    )
    settings = {"database_url": server.url, "max_batch": 8, "allow_unauthenticated_text_listing": True}
    with gateway(tmp_path, backend=backend, **settings) as client:
        backend.stop_at = backend.calls + 3  # of 5 batches
        answer = client.post(
            "/ui/documents",
            params={"name": "contract.txt"},
            content=contract.encode(),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert answer.status_code == 503 and "nothing was logged" in answer.json()["error"], answer.text
        server.start()
        _until(lambda: client.get("/readyz").status_code == 200, timeout=30)
        assert client.app.state.gateway.store.counts()["predictions"] == 0
        assert 'id="queue-empty"' in client.post("/ui/queue/next", headers={"X-Reviewer": "reviewer-1"}).text


def test_a_replica_starting_before_the_database_retries_then_gives_up_clearly(caplog):
    import socket

    from serving.settings import ServingSettings
    from serving.state import open_store

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    settings = ServingSettings(
        database_url=f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/postgres", store_startup_seconds=1
    )
    start = time.monotonic()
    with pytest.raises(Exception, match=r"Connection refused|connection failed"):
        open_store(settings)
    assert 1 <= time.monotonic() - start < 30
    retries = [r.getMessage() for r in caplog.records if "not reachable yet" in r.getMessage()]
    assert retries and not any("secret" in message for message in retries)
