"""Liveness, readiness, /v1/health and /metrics against the stand-in backend."""

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


def test_readiness_follows_the_loaded_versions_and_a_gateway_without_one_answers_503(tmp_path):
    backend = StandInBackend(versions=())
    with gateway(tmp_path, backend) as client:
        assert backend.started
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 503
        down = client.post("/v1/classify", json={"texts": GOVERNING})
        assert down.status_code == 503 and "no loadable version" in down.json()["error"]
        assert client.post("/v1/feedback", json={"text": GOVERNING, "label": "termination"}).status_code == 503
        backend.push(3)
        assert client.get("/readyz").json() == {"status": "ready", "versions": [3]}
    assert not backend.closed  # a borrowed backend is the caller's to close


def test_health_counts_and_metrics(client):
    client.post("/v1/classify", json={"texts": [GOVERNING, GOVERNING]})
    health = client.get("/v1/health").json()
    assert health["model_name"] == "lexflow" and health["serving_versions"] == [7]
    assert (health["predictions"], health["feedback"], health["errors"]) == (2, 0, 0)
    assert health["versions"] == [{"version": 7, "predictions": 2, "feedback": 0, "correct": 0, "live_accuracy": None}]
    text = client.get("/metrics").text
    assert 'lexflow_predictions_total{label="governing_law",version="7"} 2.0' in text
    assert 'lexflow_request_seconds_bucket{le="0.005",route="/v1/classify"}' in text
    assert client.get("/nope").status_code == 404 and client.get("/nope").json() == {"error": "Not Found"}
