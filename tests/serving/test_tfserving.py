"""TF Serving's REST API on the gateway, against the stand-in backend."""

import pytest

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, LABELS, StandInBackend


def base64_of(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


def test_row_and_columnar_predict_status_and_metadata(tmp_path):
    with gateway(tmp_path, StandInBackend(versions=(7, 9))) as client:
        rows = client.post("/v1/models/lexflow:predict", json={"instances": [GOVERNING, {"text": GOVERNING}]})
        assert rows.status_code == 200 and rows.headers["X-Model-Version"] == "9"
        assert [p["label"] for p in rows.json()["predictions"]] == ["governing_law"] * 2
        assert rows.json()["predictions"][0]["classes"] == LABELS
        assert len(rows.headers["X-Prediction-Ids"].split(",")) == 2
        columns = client.post("/v1/models/lexflow/versions/7:predict", json={"inputs": {"text": [GOVERNING]}})
        assert columns.headers["X-Model-Version"] == "7" and columns.json()["outputs"]["label"] == ["governing_law"]
        assert columns.json()["outputs"]["classes"] == [LABELS]
        status = client.get("/v1/models/lexflow").json()["model_version_status"]
        assert [s["version"] for s in status] == ["9", "7"] and {s["state"] for s in status} == {"AVAILABLE"}
        assert client.get("/v1/models/lexflow/versions/7").json()["model_version_status"][0]["version"] == "7"
        metadata = client.get("/v1/models/lexflow/versions/7/metadata").json()
        assert metadata["model_spec"]["version"] == "7"
        outputs = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]["outputs"]
        assert outputs["scores"]["tensor_shape"]["dim"][1]["size"] == str(len(LABELS))


@pytest.mark.parametrize(
    "path, payload, status",
    [
        ("/v1/models/nope:predict", {"instances": ["x"]}, 404),
        ("/v1/models/lexflow/versions/1:predict", {"instances": ["x"]}, 404),
        ("/v1/models/lexflow/versions/-1:predict", {"instances": ["x"]}, 422),
        ("/v1/models/lexflow/versions/99999999999999999999:predict", {"instances": ["x"]}, 422),
        ("/v1/models/lexflow/labels/nope:predict", {"instances": ["x"]}, 404),
        ("/v1/models/lexflow/labels/canary:predict", {"instances": ["x"]}, 404),  # no staging set
        ("/v1/models/lexflow:predict", {"instances": "x"}, 400),
        ("/v1/models/lexflow:predict", {"instances": [{"body": "x"}]}, 400),
        ("/v1/models/lexflow:predict", {"instances": ["x"], "inputs": ["x"]}, 400),
        ("/v1/models/lexflow:predict", {"signature_name": "other", "instances": ["x"]}, 400),
        ("/v1/models/lexflow:predict", [1, 2], 400),
        ("/v1/models/lexflow:predict", {"instances": [3]}, 422),
        ("/v1/models/lexflow:predict", {"instances": []}, 422),
    ],
)
def test_bad_requests_get_tf_serving_style_json_errors(client, path, payload, status):
    response = client.post(path, json=payload)
    assert response.status_code == status and "error" in response.json(), (path, payload, response.json())
    assert client.get("/v1/health").json()["predictions"] == 0


def test_unknown_model_and_version_status_are_404(client):
    assert client.get("/v1/models/nope").status_code == 404
    assert client.get("/v1/models/lexflow/versions/1").status_code == 404
    assert client.get("/v1/models/lexflow/versions/1/metadata").status_code == 404


def test_b64_string_values_in_both_formats(client):
    import base64

    encoded = base64.b64encode(GOVERNING.encode()).decode()
    unpadded = encoded.rstrip("=")
    for payload in (
        {"instances": [{"b64": encoded}]},
        {"instances": [{"text": {"b64": unpadded}}]},
        {"inputs": {"b64": encoded}},
        {"inputs": [{"b64": encoded}]},
        {"inputs": {"text": [{"b64": encoded}]}},
    ):
        response = client.post("/v1/models/lexflow:predict", json=payload)
        assert response.status_code == 200, (payload, response.json())
        body = response.json()
        labels = [p["label"] for p in body["predictions"]] if "predictions" in body else body["outputs"]["label"]
        assert labels == ["governing_law"], payload
    store = client.app.state.gateway.store
    stored = store.get_prediction(response.headers["X-Prediction-Ids"])
    assert stored.text == GOVERNING  # decoded before it was logged


@pytest.mark.parametrize(
    "instance, message",
    [
        ({"b64": "not base64!"}, "Unable to base64 decode"),
        ({"b64": 5}, "must be a string"),
        ({"b64": base64_of(b"\xff\xfe")}, "not UTF-8"),
        ({"b64": "", "x": 1}, "expected exactly the input 'text'"),
    ],
)
def test_bad_b64_values_are_400(client, instance, message):
    response = client.post("/v1/models/lexflow:predict", json={"instances": [instance]})
    assert response.status_code == 400 and message in response.json()["error"], response.json()


def test_label_routes_for_status_and_metadata(tmp_path):
    with gateway(tmp_path, StandInBackend(versions=(7, 9))) as client:
        client.put("/v1/routing", json={"production": 7, "staging": 9})
        # Status under a label: TF Serving 2.16 ignores the label and lists every version.
        for label in ("stable", "canary", "anything"):
            status = client.get(f"/v1/models/lexflow/labels/{label}")
            assert [s["version"] for s in status.json()["model_version_status"]] == ["9", "7"]
        stable = client.get("/v1/models/lexflow/labels/stable/metadata").json()
        assert stable["model_spec"] == {"name": "lexflow", "signature_name": "", "version": "7"}
        assert client.get("/v1/models/lexflow/labels/canary/metadata").json()["model_spec"]["version"] == "9"
        assert client.get("/v1/models/lexflow/metadata").json()["model_spec"]["version"] == "7"  # production
        assert client.get("/v1/models/lexflow/labels/nope/metadata").status_code == 404
        signatures = stable["metadata"]["signature_def"]["signature_def"]
        assert set(signatures) == {"serving_default", "serving_tf_example", "__saved_model_init_op"}
        assert signatures["serving_default"]["defaults"] == {}


def test_unknown_label_metadata_without_staging_is_404(client):
    assert client.get("/v1/models/lexflow/labels/canary/metadata").status_code == 404


MALFORMED_VERSIONS = ["", "x", "-1", "1.5", "1e3", " 7", "+7", "1_0", "²", "٣", "9" * 20, "1" * 4301]


@pytest.mark.parametrize("bad", MALFORMED_VERSIONS, ids=lambda v: repr(v[:12]) + f"[{len(v)}]")
def test_every_malformed_version_parameter_is_a_4xx(client, bad):
    from urllib.parse import quote

    q = quote(bad, safe="")
    calls = [
        ("POST", f"/v1/classify?version={q}", {"texts": GOVERNING}),
        ("POST", f"/v1/models/lexflow/versions/{q}:predict", {"instances": [GOVERNING]}),
        ("GET", f"/v1/models/lexflow/versions/{q}", None),
        ("GET", f"/v1/models/lexflow/versions/{q}/metadata", None),
    ]
    for method, path, body in calls:
        response = client.request(method, path, json=body)
        assert 400 <= response.status_code < 500 and "error" in response.json(), (path[:80], response.status_code)
    assert client.get("/v1/health").json()["predictions"] == 0
