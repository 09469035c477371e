"""POST /v1/classify's hand-written fast path answers exactly as the FastAPI route does.

No model needed: a stand-in backend behind the real MicroBatcher, and a real SQLite store.
`application/vnd.lexflow+json` is JSON to FastAPI but not to the fast path, so the same request
can be sent down either path and the answers compared.
"""
import json

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.backends.base import ModelBackend, Prediction, UnknownVersion
from serving.backends.batching import MicroBatcher
from serving.settings import ServingSettings

FAST = {"Content-Type": "application/json"}
ROUTE = {"Content-Type": "application/vnd.lexflow+json"}


class StandInBackend(ModelBackend):
    model_name = "lexflow"

    def __init__(self, with_async: bool = True):
        self._batcher = MicroBatcher(self._score)
        if not with_async:  # like the TF Serving backends: the service runs `predict` in a thread
            self.predict_async = None

    @staticmethod
    def _score(texts):
        return Prediction(version=7, classes=["a", "b"], scores=[[0.25, 0.75]] * len(texts), labels=["b"] * len(texts))

    @staticmethod
    def _check(version):
        if version not in (None, 7):
            raise UnknownVersion(f"model 'lexflow' has no version {version} (serving: [7])")

    def predict(self, texts, version=None):
        self._check(version)
        return self._batcher.predict(texts)

    async def predict_async(self, texts, version=None):
        self._check(version)
        return await self._batcher.predict_async(texts)

    def versions(self):
        return [7]

    def classes(self, version=None):
        return ["a", "b"]


@pytest.fixture(params=[True, False], ids=["async-backend", "thread-backend"])
def client(request, tmp_path):
    settings = ServingSettings(model_base_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/feedback.sqlite",
                               max_text_chars=200, max_batch=4)
    backend = StandInBackend(with_async=request.param)
    with TestClient(create_app(settings, backend=backend)) as client:
        yield client


def _comparable(response):
    body = response.json()
    for prediction in body.get("predictions", []):
        prediction["prediction_id"] = "<id>"
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize("query, payload", [
    ("", {"texts": "One clause."}),
    ("", {"texts": ["One clause.", "Another clause."]}),
    ("?version=7", {"texts": ["Pinned."]}),
    ("?label=production", {"texts": ["By label."]}),
    ("?version=7&label=stable", {"texts": ["Both."]}),
    ("?version=8", {"texts": ["No such version."]}),
    ("?label=canary", {"texts": ["No staging version."]}),
    ("?label=", {"texts": ["Empty label."]}),
    ("?version=x", {"texts": ["Bad version."]}),
    ("?version=", {"texts": ["Blank version."]}),
    ("?other=1", {"texts": ["Unknown parameter."]}),
    ("", {"texts": ""}),
    ("", {"texts": []}),
    ("", {"texts": ["ok", None]}),
    ("", {"texts": 5}),
    ("", {"texts": "x" * 201}),
    ("", {"texts": ["a"] * 5}),
    ("", {"texts": "a\x00b"}),
    ("", {"text": "wrong key"}),
    ("", {"texts": "ok", "extra": 1}),
    ("", ["not", "an", "object"]),
    ("", '{"texts": "\\ud800"}'),
    ("", '{"texts": '),
    ("", ""),
])
def test_fast_path_and_route_answer_alike(client, query, payload):
    content = payload if isinstance(payload, str) else json.dumps(payload)
    fast = client.post(f"/v1/classify{query}", content=content, headers=FAST)
    route = client.post(f"/v1/classify{query}", content=content, headers=ROUTE)
    assert _comparable(fast) == _comparable(route)
    assert fast.status_code < 500


def test_fast_path_logs_durably_before_answering_and_counts_requests(client):
    route = next(r for r in client.app.routes if getattr(r, "path", None) == "/v1/classify")
    inner, routed = route.app, []

    async def spy(scope, receive, send):
        routed.append(scope["path"])
        await inner(scope, receive, send)

    route.app = spy
    response = client.post("/v1/classify", json={"texts": ["One clause.", "Another clause."]})
    assert response.status_code == 200 and routed == []  # answered by the fast path
    assert client.post("/v1/classify", content='{"texts": "x"}', headers=ROUTE).status_code == 200
    assert routed == ["/v1/classify"]
    body = response.json()
    assert body["model_version"] == 7 and body["route"] == "production"
    assert [p["scores"] for p in body["predictions"]] == [{"a": 0.25, "b": 0.75}] * 2
    store = client.app.state.lexflow["store"]
    for prediction in body["predictions"]:
        row = store.get_prediction(prediction["prediction_id"])  # committed before the answer was sent
        assert row is not None and row.label == "b" and row.scores == {"a": 0.25, "b": 0.75}
    metrics = client.get("/metrics").text
    assert 'lexflow_requests_total{route="/v1/classify",status="200"} 2.0' in metrics
    assert 'lexflow_predictions_total{label="b",version="7"} 3.0' in metrics
    assert client.get("/v1/health").json()["predictions"] == 3


def test_tf_serving_route_goes_through_the_async_service(client):
    response = client.post("/v1/models/lexflow:predict", json={"instances": ["One clause."]})
    assert response.status_code == 200 and response.json()["predictions"][0]["label"] == "b"
    assert len(response.headers["X-Prediction-Ids"].split(",")) == 1
