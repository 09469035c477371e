"""Security: the API key on every write, size limits, no path traversal through model names or
versions, no secrets in logs or responses, CORS off unless configured, a non-root image.

Already covered elsewhere, not repeated here: the basic API-key check on feedback and routing
(tests/e2e/test_gateway_real_model.py::test_api_key_guards_write_endpoints_only) and the gateway and
pipeline images' USER and the Kubernetes runAsNonRoot (tests/deploy/test_deploy.py)."""

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServingSettings

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-live-7f3a9c1e5b2d4f608a1c3e5f7b9d2e4c"
GOVERNING = "This Agreement shall be governed by and construed in accordance with the laws of the State of New York."


@pytest.fixture(scope="module")
def base_dir(pipeline_run, tmp_path_factory) -> Path:
    """lexflow/<v>, plus a second model `secret/<v+7>` beside it that must stay unreachable."""
    root = tmp_path_factory.mktemp("security") / "serving"
    version = int(pipeline_run.model_dir.name)
    shutil.copytree(pipeline_run.model_dir, root / "lexflow" / str(version))
    shutil.copytree(pipeline_run.model_dir, root / "secret" / str(version + 7))
    return root


def _client(base_dir: Path, tmp_path: Path, **settings) -> TestClient:
    config = ServingSettings(
        model_base_dir=base_dir,
        database_url=settings.pop("database_url", f"sqlite:///{tmp_path}/fb.sqlite"),
        export_data_root=tmp_path / "export",
        **settings,
    )
    return TestClient(create_app(config))


@pytest.mark.e2e
def test_every_write_needs_the_key_and_a_refused_write_changes_nothing(base_dir, tmp_path):
    with _client(base_dir, tmp_path, api_key=KEY) as client:
        prediction_id = client.post("/v1/classify", json={"texts": GOVERNING}).json()["predictions"][0]["prediction_id"]
        writes = [
            ("POST", "/v1/feedback", {"prediction_id": prediction_id, "label": "termination"}),
            ("GET", "/v1/feedback", None),  # stored texts are user data: reading them is guarded too
            ("GET", "/v1/reports", None),  # drift reports quote live traffic's tokens
            ("POST", "/v1/feedback/export", None),
            ("PUT", "/v1/routing", {"canary_share": 0.5}),
        ]
        wrong_credentials = [
            {},
            {"X-API-Key": ""},
            {"X-API-Key": "wrong"},
            {"X-API-Key": KEY.upper()},
            {"X-API-Key": KEY[:-1]},
            {"X-API-Key": KEY + " "},
            {"Authorization": f"Basic {KEY}"},
            {"Authorization": "Bearer "},
            {"Authorization": f"Bearer {KEY[:-1]}"},
            {"X-Api-Key-Override": KEY},
        ]
        for method, path, body in writes:
            for headers in wrong_credentials:
                answer = client.request(method, path, json=body, headers=headers)
                assert answer.status_code == 401, (method, path, headers, answer.status_code)
                assert KEY not in answer.text and "API key" in answer.json()["error"]
            # Not in the query string either (it would end up in access logs).
            assert client.request(method, f"{path}?api_key={KEY}", json=body).status_code == 401
        # Nothing happened: no feedback, routing unchanged, no span written.
        assert client.get("/v1/health").json()["feedback"] == 0
        assert client.get("/v1/routing").json()["canary_share"] == 0.0
        assert not (tmp_path / "export").exists()

        # The right key works, in either header (so the 401s above were about the key).
        assert client.post("/v1/feedback", json=writes[0][2], headers={"X-API-Key": KEY}).status_code == 201
        assert (
            client.put(
                "/v1/routing", json={"canary_share": 0.5}, headers={"Authorization": f"Bearer {KEY}"}
            ).status_code
            == 200
        )
        assert client.post("/v1/feedback/export", headers={"X-API-Key": KEY}).json()["rows"] == 1
        # Reads and scoring stay open.
        for path in ("/v1/health", "/v1/routing", "/healthz", "/readyz", "/metrics", "/v1/models/lexflow"):
            assert client.get(path).status_code == 200, path


@pytest.mark.e2e
def test_size_limits_on_texts_batches_and_bodies(base_dir, tmp_path):
    with _client(base_dir, tmp_path, api_key=KEY, max_text_chars=1000, max_batch=8, max_body_bytes=64 * 1024) as client:
        refused = [
            ("/v1/classify", {"texts": "x" * 1001}, "1001 characters exceeds the limit of 1000"),
            ("/v1/classify", {"texts": ["ok"] * 9}, "batch of 9 texts exceeds the limit of 8"),
            ("/v1/models/lexflow:predict", {"instances": ["x" * 1001]}, "exceeds the limit of 1000"),
            ("/v1/models/lexflow:predict", {"inputs": {"text": ["ok"] * 9}}, "batch of 9"),
            ("/v1/feedback", {"text": "x" * 1001, "label": "termination"}, "exceeds the limit of 1000"),
            ("/v1/feedback", {"prediction_id": "a" * 65, "label": "termination"}, "prediction_id"),
        ]
        for path, body, message in refused:
            answer = client.post(path, json=body, headers={"X-API-Key": KEY})
            assert answer.status_code in (413, 422) and message in answer.json()["error"], (path, answer.text)
        huge = b'{"texts": "' + b"a" * (64 * 1024) + b'"}'
        for path in ("/v1/classify", "/v1/feedback", "/v1/models/lexflow:predict"):
            declared = client.post(path, content=huge, headers={"Content-Type": "application/json", "X-API-Key": KEY})
            assert declared.status_code == 413 and "limit of 65536 bytes" in declared.json()["error"], (
                path,
                declared.text,
            )
            # Chunked, without Content-Length: counted as it arrives.
            chunked = client.post(
                path,
                content=(huge[i : i + 4096] for i in range(0, len(huge), 4096)),
                headers={"Content-Type": "application/json", "X-API-Key": KEY},
            )
            assert chunked.status_code == 413, (path, chunked.text)
        # Just under the body limit is fine (the text limit answers, not the body limit).
        under = client.post("/v1/classify", json={"texts": "a" * 1000})
        assert under.status_code == 200
        assert client.get("/v1/health").json()["predictions"] == 1  # only that one was stored


@pytest.mark.e2e
def test_no_path_traversal_through_model_names_or_versions(base_dir, tmp_path, pipeline_run):
    version = int(pipeline_run.model_dir.name)
    body = {"instances": [GOVERNING]}
    with _client(base_dir, tmp_path) as client:
        assert client.post("/v1/models/lexflow:predict", json=body).status_code == 200
        for path in [
            "/v1/models/..%2F..%2Fetc/versions/1:predict",
            "/v1/models/..%2Fsecret:predict",
            "/v1/models/secret:predict",
            f"/v1/models/secret/versions/{version + 7}:predict",
            "/v1/models/lexflow%2F..%2Fsecret:predict",
            "/v1/models/%2E%2E/versions/1:predict",
            "/v1/models/lexflow/versions/..%2F1:predict",
            "/v1/models/lexflow/versions/%2E%2E%2F1:predict",
            f"/v1/models/lexflow/versions/{version + 7}:predict",  # the other model's version number
            f"/v1/models/lexflow/versions/-{version}:predict",
            "/v1/models/lexflow/labels/..%2F..%2Fsecret:predict",
            f"/v1/models/lexflow/versions/{version}%2F..%2F..%2Fsecret:predict",
        ]:
            answer = client.post(path, json=body)
            assert answer.status_code in (404, 422), (path, answer.status_code, answer.text)
            assert isinstance(answer.json()["error"], str)
        for path in [
            "/v1/models/..%2Fsecret",
            "/v1/models/..%2Fsecret/metadata",
            "/v1/models/lexflow/versions/..%2F1/metadata",
            f"/v1/models/lexflow/versions/{version + 7}/metadata",
        ]:
            answer = client.get(path)
            assert answer.status_code in (404, 422), (path, answer.status_code, answer.text)
        for query in ("version=../1", f"version={version + 7}", "version=%2E%2E%2F1", "label=..%2Fsecret"):
            answer = client.post(f"/v1/classify?{query}", json={"texts": GOVERNING})
            assert answer.status_code in (404, 422), (query, answer.text)
        assert client.get("/v1/models/lexflow").json()["model_version_status"][0]["version"] == str(version)
    # The model name a gateway serves is configuration, and cannot name a path either.
    for name in ("../secret", "lexflow/../secret", "..", "a b"):
        with pytest.raises(ValueError):
            ServingSettings(model_name=name)


@pytest.mark.e2e
def test_cors_is_off_by_default_and_only_for_configured_origins(base_dir, tmp_path):
    evil = {"Origin": "https://evil.example"}
    preflight = {
        **evil,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-api-key,content-type",
    }
    with _client(base_dir, tmp_path) as client:
        simple = client.post("/v1/classify", json={"texts": GOVERNING}, headers=evil)
        assert simple.status_code == 200
        options = client.options("/v1/feedback", headers=preflight)
        for answer in (simple, options, client.get("/v1/health", headers=evil)):
            assert not any(h.lower().startswith("access-control-") for h in answer.headers), dict(answer.headers)
    with _client(base_dir, tmp_path, cors_origins=["https://app.example"]) as client:
        allowed = client.post("/v1/classify", json={"texts": GOVERNING}, headers={"Origin": "https://app.example"})
        assert allowed.headers.get("access-control-allow-origin") == "https://app.example"
        refused = client.options("/v1/feedback", headers=preflight)
        assert "access-control-allow-origin" not in refused.headers


def _secret_free(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, (
            f"secret {secret[:4]}... appears in: ...{text[max(0, text.find(secret) - 200) : text.find(secret) + 50]}..."
        )


@pytest.mark.e2e
def test_no_secrets_in_logs_or_responses(base_dir, tmp_path, postgres_url, caplog):
    """A PostgreSQL URL with a password (the test server trusts any) and an API key, used for
    real: requests with right and wrong keys, errors, exports. Neither may show up anywhere."""
    password = "pg-Pa55w0rd-do-not-log"
    url = postgres_url.replace("postgres@", f"postgres:{password}@")
    assert password in url
    caplog.set_level(logging.DEBUG)  # everything any library logs, at any level
    with _client(base_dir, tmp_path, api_key=KEY, database_url=url) as client:
        bodies = []
        prediction_id = client.post("/v1/classify", json={"texts": GOVERNING}).json()["predictions"][0]["prediction_id"]
        for headers in ({"X-API-Key": KEY}, {"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY + "x"}, {}):
            bodies.append(
                client.post(
                    "/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"}, headers=headers
                ).text
            )
            bodies.append(client.get("/v1/feedback", headers=headers).text)
        bodies.append(
            client.post(
                "/v1/feedback", json={"prediction_id": "0" * 36, "label": "termination"}, headers={"X-API-Key": KEY}
            ).text
        )
        for path in (
            "/v1/health",
            "/v1/routing",
            "/metrics",
            "/openapi.json",
            "/readyz",
            "/v1/models/lexflow/metadata",
        ):
            bodies.append(client.get(path).text)
        assert client.get("/v1/health").json()["feedback"] == 2  # it really used the PostgreSQL store
    _secret_free(caplog.text + "\n".join(bodies), KEY, password)


@pytest.mark.e2e
def test_no_secrets_in_the_served_process_output(base_dir, tmp_path, postgres_url):
    """`lexflow serve` itself, with uvicorn's logs at info and an access log: started with a
    password in the database URL, used with the key, then started against a database that is
    down (the error it prints must not carry the URL's password)."""
    from benchmarks.load_test import free_port, wait_ready

    password = "pg-Pa55w0rd-do-not-log"
    env = {
        **os.environ,
        "LEXFLOW_API_KEY": KEY,
        "LEXFLOW_ACCESS_LOG": "true",
        "LEXFLOW_MODEL_BASE_DIR": str(base_dir),
        "LEXFLOW_DATABASE_URL": postgres_url.replace("postgres@", f"postgres:{password}@"),
    }
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [sys.executable, "-m", "lexflow.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_ready(f"http://127.0.0.1:{port}", server)
        base = f"http://127.0.0.1:{port}"
        for headers in ({"X-API-Key": KEY}, {"X-API-Key": "nope"}):
            httpx.get(f"{base}/v1/feedback", headers=headers, timeout=30)
        assert httpx.get(f"{base}/v1/feedback", headers={"X-API-Key": KEY}, timeout=30).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=60)
    served = log.read_text(errors="replace")
    assert "GET /v1/feedback" in served  # the access log was on: there was something to leak into

    down = {**env, "LEXFLOW_DATABASE_URL": f"postgresql+psycopg://lexflow:{password}@127.0.0.1:{free_port()}/feedback"}
    failed = subprocess.run(
        [sys.executable, "-m", "lexflow.cli", "serve", "--port", str(free_port())],
        cwd=REPO,
        env=down,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode != 0 and re.search(r"connect|refused", failed.stdout + failed.stderr, re.I)
    _secret_free(served + failed.stdout + failed.stderr, KEY, password)


def _final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    instructions = [
        (m.group(1).upper(), m.group(2).strip())
        for m in re.finditer(r"^\s*([A-Za-z]+)\s+(.*)$", text, re.M)
        if not m.group(0).lstrip().startswith("#")
    ]
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_every_image_runs_as_non_root_in_its_final_stage():
    """Any Dockerfile in the repository (today: Dockerfile, serving.Dockerfile): the stage that
    becomes the image ends as a numeric non-root user, and nothing after it switches back."""
    dockerfiles = sorted(p for p in REPO.rglob("*Dockerfile*") if ".git" not in p.parts and p.is_file())
    assert {p.name for p in dockerfiles} >= {"Dockerfile", "serving.Dockerfile"}
    for dockerfile in dockerfiles:
        stage = _final_stage(dockerfile)
        users = [args for name, args in stage if name == "USER"]
        assert users, f"{dockerfile.name}: the final stage never sets USER (it would run as root)"
        user = users[-1].split(":")[0]
        assert user.isdigit() and user != "0", f"{dockerfile.name}: USER {users[-1]} (want a numeric non-root uid)"
        after = stage[max(i for i, (name, _) in enumerate(stage) if name == "USER") :]
        assert not any(name == "RUN" and re.search(r"\b(sudo|su)\b", args) for name, args in after), dockerfile.name
