"""POST /v1/classify's hand-written fast path answers exactly as the FastAPI route does.

No model needed: a stand-in backend behind the real MicroBatcher, and a real SQLite store.
`application/vnd.lexflow+json` is JSON to FastAPI but not to the fast path, so the same request
can be sent down either path and the answers compared.
"""

import json

import pytest

from serving.api.schemas import CLASSIFY_RESPONSE
from serving.deps import GatewayDep, get_service
from tests.serving.conftest import gateway
from tests.serving.stand_in import LABELS, StandInBackend, score

FAST = {"Content-Type": "application/json"}
ROUTE = {"Content-Type": "application/vnd.lexflow+json"}


@pytest.fixture(params=[False, True], ids=["async-backend", "thread-backend"])
def client(request, tmp_path):
    with gateway(tmp_path, StandInBackend(threaded=request.param), max_text_chars=200, max_batch=4) as client:
        yield client


def _comparable(response):
    body = response.json()
    for prediction in body.get("predictions", []):
        prediction["prediction_id"] = "<id>"
    return response.status_code, response.headers["content-type"], body


@pytest.mark.parametrize(
    "query, payload",
    [
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
        # What the fast path reads with orjson, the route with pydantic: they agree on these too.
        ("", '{"texts": "a", "texts": ["b"]}'),  # a repeated key: the last one counts
        ("", '{"texts": "b", "texts": 1}'),
        ("", ' {"texts": "spaced"} \n'),
        ("", '\ufeff{"texts": "after a BOM"}'),
        ("", '{"texts": "a"} trailing'),
        ("", '{"texts": NaN}'),
        ("", '{"texts": ["a",]}'),
        ("", '{"texts": "\\ud83d\\ude00 escaped pair"}'),
        ("", '{"texts": ["ok", ["nested"]]}'),
        ("", '{"texts": {"a": "b"}}'),
        ("", '{"texts": "tab\tinside"}'),
    ],
)
def test_fast_path_and_route_answer_alike(client, query, payload):
    content = payload if isinstance(payload, str) else json.dumps(payload)
    fast = client.post(f"/v1/classify{query}", content=content, headers=FAST)
    route = client.post(f"/v1/classify{query}", content=content, headers=ROUTE)
    assert _comparable(fast) == _comparable(route)
    assert fast.status_code < 500


def test_fast_path_logs_durably_before_answering_and_counts_requests(client):
    routed = []

    def spy(gateway: GatewayDep):  # dependencies are the route's; the fast path has none
        routed.append("/v1/classify")
        return gateway.service

    client.app.dependency_overrides[get_service] = spy
    response = client.post("/v1/classify", json={"texts": ["One clause.", "Another clause."]})
    assert response.status_code == 200 and routed == []  # answered by the fast path
    assert client.post("/v1/classify", content='{"texts": "x"}', headers=ROUTE).status_code == 200
    assert routed == ["/v1/classify"]
    body = response.json()
    assert body["model_version"] == 7 and body["route"] == "production"
    expected = dict(zip(LABELS, score("One clause."), strict=True))
    assert [p["scores"] for p in body["predictions"]] == [expected] * 2
    assert CLASSIFY_RESPONSE.validate_python(body) == body  # exactly the documented response shape
    store = client.app.state.gateway.store
    for prediction in body["predictions"]:
        row = store.get_prediction(prediction["prediction_id"])  # committed before the answer was sent
        assert row is not None and row.label == LABELS[0] and row.scores == expected
    metrics = client.get("/metrics").text
    assert 'lexflow_requests_total{route="/v1/classify",status="200"} 2.0' in metrics
    assert f'lexflow_predictions_total{{label="{LABELS[0]}",version="7"}} 3.0' in metrics
    assert client.get("/v1/health").json()["predictions"] == 3


def test_tf_serving_route_goes_through_the_async_service(client):
    response = client.post("/v1/models/lexflow:predict", json={"instances": ["One clause."]})
    assert response.status_code == 200 and response.json()["predictions"][0]["label"] == LABELS[0]
    assert len(response.headers["X-Prediction-Ids"].split(",")) == 1
