"""The gateway in front of TF Serving (REST backend, against a fake TF Serving speaking its REST API):
labels and the canary share are resolved to an explicit version, TF Serving is called for that
version, the version logged is the one that answered, and the TF Serving config the gateway keeps
lists every routed version."""

import json
import re
import time

import httpx
import pytest

from serving.backends.tfserving_rest import TFServingRestBackend
from serving.routing.tfserving_config import render, versions_to_serve, write, written_revision
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, LABELS, score, signature_defs


class FakeTFServing:
    """What tensorflow_model_server answers on its REST port, for model `lexflow`."""

    def __init__(self, versions):
        self.available = set(versions)
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        if request.method == "GET" and path == "/v1/models/lexflow":
            states = [{"version": str(v), "state": "AVAILABLE"} for v in sorted(self.available, reverse=True)]
            return httpx.Response(200, json={"model_version_status": states})
        match = re.fullmatch(r"/v1/models/lexflow/versions/(\d+)(:predict|/metadata)", path)
        if match is None:
            return httpx.Response(400, json={"error": f"Malformed request: {request.method} {path}"})
        version = int(match.group(1))
        if version not in self.available:
            return httpx.Response(404, json={"error": f"Servable not found for request: Specific(lexflow, {version})"})
        if match.group(2) == "/metadata":
            return httpx.Response(200, json={"metadata": {"signature_def": signature_defs(len(LABELS))}})
        texts = json.loads(request.content)["instances"]
        rows = [{"scores": score(t), "classes": LABELS, "label": LABELS[score(t).index(0.7)]} for t in texts]
        return httpx.Response(200, json={"predictions": rows})


@pytest.fixture
def tfserving():
    return FakeTFServing(versions=(7, 9))


def _backend(tfserving):
    return TFServingRestBackend("http://tfserving:8501", "lexflow", transport=httpx.MockTransport(tfserving))


def test_labels_and_canary_resolve_to_explicit_versions_and_the_answering_version_is_logged(tmp_path, tfserving):
    config = tmp_path / "tfserving" / "models.config"
    (tmp_path / "models" / "lexflow").mkdir(parents=True)
    for version in (5, 7, 9):  # on the shared volume, as the Pusher wrote them
        (tmp_path / "models" / "lexflow" / str(version)).mkdir()
        (tmp_path / "models" / "lexflow" / str(version) / "saved_model.pb").write_bytes(b"x")
    settings = {"tfserving_config_path": config, "tfserving_base_path": "/models/lexflow"}
    settings.update(tfserving_keep_versions=1, routing_refresh_seconds=0.05)
    with gateway(tmp_path, _backend(tfserving), **settings) as client:
        answer = client.post("/v1/classify", json={"texts": GOVERNING}).json()
        assert answer["model_version"] == 9 and tfserving.calls[-1] == "POST /v1/models/lexflow/versions/9:predict"
        store = client.app.state.gateway.store
        assert store.get_prediction(answer["predictions"][0]["prediction_id"]).model_version == 9

        assert client.put("/v1/routing", json={"production": 7, "staging": 9, "canary_share": 1.0}).status_code == 200
        canary = client.post("/v1/classify", json={"texts": GOVERNING}).json()
        assert (canary["route"], canary["model_version"]) == ("staging", 9)
        labelled = client.post("/v1/models/lexflow/labels/stable:predict", json={"instances": [GOVERNING]})
        assert labelled.headers["X-Model-Version"] == "7"
        assert tfserving.calls[-1] == "POST /v1/models/lexflow/versions/7:predict"
        assert not any(call.endswith("/lexflow:predict") for call in tfserving.calls)  # never "latest"

        # TF Serving is told to keep the routed versions (7, 9) plus the newest on disk (9).
        assert _wait(lambda: config.exists() and "versions: 7" in config.read_text())
        assert re.findall(r"versions: (\d+)", config.read_text()) == ["7", "9"]
        assert client.put("/v1/routing", json={"production": 5}).status_code == 200  # on disk, not loaded
        assert _wait(lambda: re.findall(r"versions: (\d+)", config.read_text()) == ["5", "7", "9"])
        waiting = client.get("/v1/routing").json()
        assert not waiting["in_effect"] and waiting["pending_versions"] == [5]
        assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == 9  # still canary
        tfserving.available.add(5)  # TF Serving loaded it
        assert _wait(lambda: client.get("/v1/routing").json()["in_effect"])
        client.put("/v1/routing", json={"canary_share": 0})
        assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == 5

        metadata = client.get("/v1/models/lexflow/labels/canary/metadata").json()
        assert metadata["model_spec"]["version"] == "9"
        assert "__saved_model_init_op" in metadata["metadata"]["signature_def"]["signature_def"]


def test_tf_serving_down_is_a_503_and_not_ready(tmp_path):
    def down(request):
        raise httpx.ConnectError("connection refused")

    backend = TFServingRestBackend("http://tfserving:8501", "lexflow", transport=httpx.MockTransport(down))
    with gateway(tmp_path, backend) as client:
        answer = client.post("/v1/classify", json={"texts": GOVERNING})
        assert answer.status_code == 503 and "error" in answer.json()
        assert client.get("/readyz").status_code == 503


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_the_config_parses_as_tf_serving_reads_it_and_never_goes_back_a_revision(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    versions = versions_to_serve({3, 40}, [1, 2, 40, 41, 42], keep_newest=2)
    assert versions == [3, 40, 41, 42]
    text = render("lexflow", "/models/lexflow", versions, revision=5)
    parsed = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    (model,) = parsed.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == ("lexflow", "/models/lexflow", "tensorflow")
    assert list(model.model_version_policy.specific.versions) == versions
    assert not model.version_labels  # labels are the gateway's; TF Serving would refuse moves to unloaded versions
    first = text_format.Parse(render("lexflow", "/m", [], 0), model_server_config_pb2.ModelServerConfig())
    assert first.model_config_list.config[0].model_version_policy.latest.num_versions == 1

    path = tmp_path / "models.config"
    assert write(path, text, 5) and not write(path, text, 5)
    assert not write(path, render("lexflow", "/models/lexflow", [40], 4), 4)  # a replica that lags behind
    assert written_revision(path.read_text()) == 5
    assert write(path, render("lexflow", "/models/lexflow", [40, 43], 6), 6)
