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


def _gauge(text: str, name: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")):
            key, value = line.rsplit(" ", 1)
            found[key] = float(value)
    return found


def test_gauges_are_current_on_every_scrape_without_calling_health(tmp_path):
    backend = StandInBackend(versions=(7, 9))
    with gateway(tmp_path, backend, metrics_cache_seconds=0) as client:
        text = client.get("/metrics").text
        assert _gauge(text, "lexflow_model_ready") == {"lexflow_model_ready": 1.0}
        assert _gauge(text, "lexflow_model_versions_loaded") == {"lexflow_model_versions_loaded": 2.0}
        assert _gauge(text, "lexflow_store_up") == {"lexflow_store_up": 1.0}
        assert _gauge(text, "lexflow_live_accuracy") == {}
        client.put("/v1/routing", json={"shadow": 7})
        ids = [
            p["prediction_id"]
            for p in client.post("/v1/classify", json={"texts": [GOVERNING, GOVERNING]}).json()["predictions"]
        ]
        client.post("/v1/feedback", json={"prediction_id": ids[0], "label": "governing_law"})
        client.post("/v1/feedback", json={"prediction_id": ids[1], "label": "termination"})
        text = client.get("/metrics").text  # no /v1/health call in between
        assert _gauge(text, "lexflow_live_accuracy") == {'lexflow_live_accuracy{version="9"}': 0.5}
        assert _gauge(text, "lexflow_feedback_pending") == {"lexflow_feedback_pending": 2.0}
        assert _gauge(text, "lexflow_shadow_agreement") == {
            'lexflow_shadow_agreement{shadow_version="7",version="9"}': 1.0
        }
        client.post("/v1/feedback", json={"prediction_id": ids[1], "label": "governing_law"})  # corrected again
        assert _gauge(client.get("/metrics").text, "lexflow_live_accuracy") == {
            'lexflow_live_accuracy{version="9"}': 1.0
        }
        shadow = client.get("/v1/shadow").json()
        assert shadow["shadow_version"] == 7
        assert shadow["pairs"] == [
            {"version": 9, "shadow_version": 7, "predictions": 2, "agreements": 2, "agreement": 1.0}
        ]
        assert client.get("/v1/health").json()["shadow"] == shadow["pairs"]


def test_store_backed_gauges_are_cached_between_scrapes(tmp_path):
    with gateway(tmp_path, metrics_cache_seconds=3600) as client:
        store = client.app.state.gateway.store
        calls = []
        original = store.health
        store.health = lambda: calls.append(1) or original()
        for _ in range(5):
            client.get("/metrics")
        assert len(calls) <= 1  # one snapshot for the hour, whatever the scrape rate
