"""The gateway against a real model pushed by a small pipeline run (session fixture)."""

import shutil
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from components.model_pusher.executor import push_atomically
from pipeline.schema_info import label_domain, load_schema
from serving.app import create_app
from serving.settings import ServingSettings
from tests.conftest import SCHEMA

pytestmark = pytest.mark.e2e
LABELS = set(label_domain(load_schema(SCHEMA)))
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."


@pytest.fixture
def base_dir(pipeline_run, tmp_path) -> Path:
    """A private copy of the pushed model base dir, so tests may add and break versions."""
    target = tmp_path / "serving" / "lexflow"
    shutil.copytree(pipeline_run.model_dir, target / pipeline_run.model_dir.name)
    return tmp_path / "serving"


def _client(base_dir: Path, tmp_path: Path, **settings) -> TestClient:
    # Without a key a gateway refuses writes unless the operator opts in; these tests opt in unless
    # they set a key (the key rule itself: tests/reliability/test_security.py).
    settings.setdefault("allow_unauthenticated_writes", True)
    config = ServingSettings(
        model_base_dir=base_dir, database_url=f"sqlite:///{tmp_path}/feedback.sqlite", poll_seconds=0.2, **settings
    )
    return TestClient(create_app(config))


def test_classify_batch_logs_every_prediction(base_dir, tmp_path):
    with _client(base_dir, tmp_path) as client:
        response = client.post(
            "/v1/classify",
            json={"texts": [GOVERNING, "Either party may terminate this Agreement on thirty (30) days notice."]},
        )
        assert response.status_code == 200
        body = response.json()
        assert [p["label"] for p in body["predictions"]] == ["governing_law", "termination"]
        for prediction in body["predictions"]:
            assert set(prediction["scores"]) == LABELS and abs(sum(prediction["scores"].values()) - 1) < 1e-4
        health = client.get("/v1/health").json()
        assert health["predictions"] == 2 and health["versions"][0]["predictions"] == 2


def test_feedback_updates_live_accuracy_and_rejects_bad_feedback(base_dir, tmp_path):
    with _client(base_dir, tmp_path, allow_unauthenticated_text_listing=True) as client:
        ids = [
            p["prediction_id"]
            for p in client.post("/v1/classify", json={"texts": [GOVERNING, GOVERNING]}).json()["predictions"]
        ]
        assert client.post("/v1/feedback", json={"prediction_id": ids[0], "label": "governing_law"}).status_code == 201
        assert (
            client.post("/v1/feedback", json={"prediction_id": ids[1], "label": "dispute_resolution"}).status_code
            == 201
        )
        # Feedback for text that was never predicted.
        assert (
            client.post(
                "/v1/feedback", json={"text": "Fees are payable monthly.", "label": "payment_terms"}
            ).status_code
            == 201
        )

        bad = [
            ({"prediction_id": ids[0], "label": "no_such_label"}, 422, "unknown label"),
            ({"prediction_id": "00000000-0000-0000-0000-000000000000", "label": "termination"}, 404, "no prediction"),
            ({"label": "termination"}, 422, "prediction_id or a text"),
            ({"text": "   ", "label": "termination"}, 422, "empty text"),
            ({"prediction_id": ids[0], "label": "termination", "extra": 1}, 422, "extra"),
        ]
        for payload, status, message in bad:
            response = client.post("/v1/feedback", json=payload)
            assert response.status_code == status and message in response.json()["error"], (payload, response.json())

        health = client.get("/v1/health").json()
        assert health["feedback"] == 3  # nothing stored on rejection
        assert health["versions"][0]["live_accuracy"] == pytest.approx(0.5)
        listed = client.get("/v1/feedback").json()["items"]
        assert [f["label"] for f in listed] == ["governing_law", "dispute_resolution", "payment_terms"]
        assert listed[1]["predicted_label"] == "governing_law" and listed[1]["text"] == GOVERNING


@pytest.mark.parametrize(
    "payload, status, message",
    [
        ({"texts": ""}, 422, "empty text"),
        ({"texts": []}, 422, "no texts"),
        ({"texts": 5}, 422, "valid string"),
        ({"texts": ["ok", None]}, 422, "valid string"),
        ({"texts": "x" * 201}, 413, "exceeds the limit of 200"),
        ({"texts": ["a"] * 5}, 413, "batch of 5"),
        ({"texts": "a\x00b"}, 422, "NUL"),
        ('{"texts": "\\ud800"}', 422, "surrogate"),  # raw JSON: an escaped lone surrogate
        ({"text": "wrong key"}, 422, "texts"),
    ],
)
def test_bad_classify_input_is_a_clear_4xx_and_stores_nothing(base_dir, tmp_path, payload, status, message):
    with _client(base_dir, tmp_path, max_text_chars=200, max_batch=4) as client:
        if isinstance(payload, str):
            response = client.post("/v1/classify", content=payload, headers={"Content-Type": "application/json"})
        else:
            response = client.post("/v1/classify", json=payload)
        assert response.status_code == status and message in response.json()["error"], response.json()
        assert client.get("/v1/health").json()["predictions"] == 0


def test_unicode_edge_cases_are_answered(base_dir, tmp_path):
    texts = ["اتفاقية السرية", "e\u0301te\u0301 cafe\u0301", "日本語の契約条項", "!!! ???", "x" * 50_000]
    with _client(base_dir, tmp_path) as client:
        response = client.post("/v1/classify", json={"texts": texts})
        assert response.status_code == 200 and len(response.json()["predictions"]) == len(texts)


def test_tf_serving_rest_compatibility(base_dir, tmp_path, pipeline_run):
    version = pipeline_run.model_dir.name
    with _client(base_dir, tmp_path) as client:
        rows = client.post("/v1/models/lexflow:predict", json={"instances": [GOVERNING, {"text": GOVERNING}]})
        assert rows.status_code == 200 and rows.headers["X-Model-Version"] == version
        assert [p["label"] for p in rows.json()["predictions"]] == ["governing_law"] * 2
        assert len(rows.headers["X-Prediction-Ids"].split(",")) == 2
        columns = client.post(f"/v1/models/lexflow/versions/{version}:predict", json={"inputs": {"text": [GOVERNING]}})
        assert columns.json()["outputs"]["label"] == ["governing_law"]
        assert set(columns.json()["outputs"]["classes"][0]) == LABELS
        assert client.get("/v1/models/lexflow").json()["model_version_status"][0]["version"] == version
        signature = client.get("/v1/models/lexflow/metadata").json()["metadata"]["signature_def"]["signature_def"]
        assert signature["serving_default"]["inputs"]["text"]["dtype"] == "DT_STRING"

        for path, payload, status in [
            ("/v1/models/nope:predict", {"instances": ["x"]}, 404),
            ("/v1/models/lexflow/versions/1:predict", {"instances": ["x"]}, 404),
            ("/v1/models/lexflow/labels/nope:predict", {"instances": ["x"]}, 404),
            ("/v1/models/lexflow/labels/canary:predict", {"instances": ["x"]}, 404),  # no staging set
            ("/v1/models/lexflow:predict", {"instances": "x"}, 400),
            ("/v1/models/lexflow:predict", {"instances": [{"body": "x"}]}, 400),
            ("/v1/models/lexflow:predict", {"instances": ["x"], "inputs": ["x"]}, 400),
            ("/v1/models/lexflow:predict", {"signature_name": "other", "instances": ["x"]}, 400),
            ("/v1/models/lexflow:predict", [1, 2], 400),
            ("/v1/models/lexflow:predict", {"instances": [3]}, 422),
        ]:
            response = client.post(path, json=payload)
            assert response.status_code == status and "error" in response.json(), (path, payload, response.json())
        assert client.get("/v1/models/lexflow/versions/1").status_code == 404


def test_api_key_guards_write_endpoints_only(base_dir, tmp_path):
    with _client(base_dir, tmp_path, api_key="s3cret") as client:
        prediction_id = client.post("/v1/classify", json={"texts": GOVERNING}).json()["predictions"][0]["prediction_id"]
        body = {"prediction_id": prediction_id, "label": "governing_law"}
        assert client.post("/v1/feedback", json=body).status_code == 401
        assert client.post("/v1/feedback", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.put("/v1/routing", json={"canary_share": 0.5}).status_code == 401
        assert client.get("/v1/feedback").status_code == 401
        assert client.post("/v1/feedback", json=body, headers={"X-API-Key": "s3cret"}).status_code == 201
        assert client.post("/v1/feedback", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 201


def _add_version(base_dir: Path, source: Path) -> int:
    return push_atomically(str(source), base_dir / "lexflow", {"fingerprint": str(time.time_ns())})


def _wait_for(predicate, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_routing_pinned_canary_and_shadow(base_dir, tmp_path, pipeline_run):
    old = int(pipeline_run.model_dir.name)
    with _client(base_dir, tmp_path) as client:
        new = _add_version(base_dir, pipeline_run.model_dir)
        assert _wait_for(lambda: new in client.get("/readyz").json()["versions"])
        assert (
            client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == new
        )  # newest by default
        assert client.post(f"/v1/classify?version={old}", json={"texts": GOVERNING}).json()["route"] == "pinned"

        routing = client.put(
            "/v1/routing", json={"production": old, "staging": new, "canary_share": 1.0, "shadow": old}
        )
        assert routing.status_code == 200
        canary = client.post("/v1/classify", json={"texts": GOVERNING}).json()
        assert canary["route"] == "staging" and canary["model_version"] == new
        client.put("/v1/routing", json={"canary_share": 0.0})
        stable = client.post("/v1/classify", json={"texts": GOVERNING}).json()
        assert stable["route"] == "production" and stable["model_version"] == old
        assert client.post("/v1/models/lexflow/labels/canary:predict", json={"instances": ["x"]}).headers[
            "X-Model-Version"
        ] == str(new)
        assert client.put("/v1/routing", json={"staging": 12345}).status_code == 404
        # Shadow scoring is logged for comparison, never returned.
        store = client.app.state.gateway.store
        row = store.get_prediction(canary["predictions"][0]["prediction_id"])
        assert row.shadow_version == old and row.shadow_label == "governing_law"


def test_hot_swap_under_load_has_no_failed_request(base_dir, tmp_path, pipeline_run):
    with _client(base_dir, tmp_path) as client:
        statuses, versions, stop = [], [], threading.Event()

        def loop():
            while not stop.is_set():
                response = client.post("/v1/classify", json={"texts": [GOVERNING]})
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.append(response.json()["model_version"])

        worker = threading.Thread(target=loop)
        worker.start()
        try:
            time.sleep(0.5)
            new = _add_version(base_dir, pipeline_run.model_dir)
            assert _wait_for(lambda: versions and versions[-1] == new)
            time.sleep(0.3)
        finally:
            stop.set()
            worker.join(timeout=30)
        assert statuses and set(statuses) == {200}
        assert versions[0] == int(pipeline_run.model_dir.name) and versions[-1] == new


def test_corrupt_version_is_refused_and_removed_version_falls_back(base_dir, tmp_path, pipeline_run, caplog):
    old = int(pipeline_run.model_dir.name)
    with _client(base_dir, tmp_path) as client:
        broken = base_dir / "lexflow" / str(old + 10)
        shutil.copytree(pipeline_run.model_dir, broken)
        (broken / "saved_model.pb").write_bytes(b"not a protobuf")
        missing_vars = base_dir / "lexflow" / str(old + 20)
        shutil.copytree(pipeline_run.model_dir, missing_vars)
        shutil.rmtree(missing_vars / "variables")
        # Both refusals are logged (waiting on the log, not a fixed sleep: polls are slow under load).
        assert _wait_for(lambda: caplog.text.count("refusing lexflow version") >= 2)
        assert client.get("/readyz").json()["versions"] == [old]
        assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == old

        good = _add_version(base_dir, pipeline_run.model_dir)
        assert _wait_for(lambda: good in client.get("/readyz").json()["versions"])
        shutil.rmtree(base_dir / "lexflow" / str(good))
        assert _wait_for(lambda: client.get("/readyz").json()["versions"] == [old])
        assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == old


def test_readiness_and_metrics(base_dir, tmp_path):
    empty = tmp_path / "empty"
    with _client(empty, tmp_path) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        assert client.post("/v1/classify", json={"texts": GOVERNING}).status_code == 503
    with _client(base_dir, tmp_path) as client:
        client.post("/v1/classify", json={"texts": GOVERNING})
        text = client.get("/metrics").text
        assert 'lexflow_predictions_total{label="governing_law"' in text
        assert "lexflow_request_seconds_bucket" in text


def test_feedback_export_endpoint_writes_a_span_once(base_dir, tmp_path):
    data_root = tmp_path / "data"
    with _client(base_dir, tmp_path, export_data_root=data_root, api_key="k") as client:
        prediction_id = client.post("/v1/classify", json={"texts": GOVERNING}).json()["predictions"][0]["prediction_id"]
        client.post(
            "/v1/feedback",
            json={"prediction_id": prediction_id, "label": "dispute_resolution"},
            headers={"X-API-Key": "k"},
        )
        assert client.post("/v1/feedback/export").status_code == 401
        first = client.post("/v1/feedback/export", headers={"X-API-Key": "k"}).json()
        assert first["span"] == 0 and first["rows"] == 1 and Path(first["path"]).is_file()
        assert client.post("/v1/feedback/export", headers={"X-API-Key": "k"}).json()["span"] is None


def test_console_classifies_a_contract_and_shows_the_versions_lineage(base_dir, tmp_path, pipeline_run):
    """The review console with the real model: a contract's provisions classified, one corrected and
    exported; the models page shows the lineage record `lexflow run` wrote beside the pipeline root."""
    contract = (
        f"1. Governing Law. {GOVERNING}\n\n"
        "2. Termination. Either party may terminate this Agreement on thirty (30) days notice.\n"
    )
    reports = pipeline_run.config.local_path("pipeline_root").parent / "reports"
    version = int(pipeline_run.model_dir.name)
    with _client(base_dir, tmp_path, reports_dir=reports, allow_unauthenticated_text_listing=True) as client:
        page = client.post(
            "/ui/documents",
            params={"name": "contract.txt"},
            content=contract.encode(),
            headers={"Content-Type": "application/octet-stream"},
        )
        assert page.status_code == 200, page.text
        document_id = page.text.split('data-document-id="')[1].split('"')[0]
        ids = page.text.split('data-prediction-id="')[1:]
        assert len(ids) == 2 and 'class="predicted">governing_law<' in page.text
        second = ids[1].split('"')[0]
        assert client.post("/ui/feedback", json={"prediction_id": second, "label": "governing_law"}).status_code == 200
        exported = client.get(f"/ui/documents/{document_id}/export.json").json()["provisions"]
        assert [p["status"] for p in exported] == ["unreviewed", "corrected"]
        models = client.get("/ui/models").text
    assert f'id="version-{version}"' in models and 'class="badge production"' in models
    assert "spans" in models and "blessed" in models and "accuracy: " in models  # lineage-v<version>.json
