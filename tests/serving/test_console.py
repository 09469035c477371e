"""The review console's routes (/ui) against the stand-in backend: pages, documents in, decisions
stored as the feedback API stores them, exports, the queue's claims, the models page, bad input."""

import csv
import io
import json
import re

import pytest

from core.reports import write_lineage
from feedback.tables import FeedbackRow, PredictionRow, ReviewDocumentRow
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend

CONTRACT = (
    "1. Governing Law. This Agreement shall be governed by the laws of the State of New York.\n\n"
    "2. Termination. Either party may terminate this Agreement upon thirty (30) days prior written notice.\n\n"
    "3. Confidentiality. Each party shall keep confidential all information received from the other party.\n"
)
REVIEWER = {"X-Reviewer": "reviewer-one"}


@pytest.fixture
def client(tmp_path):
    """Without an API key, reading stored texts (reviewed documents, the queue) needs the explicit opt-in."""
    with gateway(tmp_path, allow_unauthenticated_text_listing=True) as client:
        yield client


def _store(client):
    return client.app.state.gateway.store


def _rows(client, table):
    with _store(client).session() as session:
        return list(session.query(table))


def _upload(client, body=CONTRACT, name="contract.txt", headers=None):
    """As the console's script sends a file: raw bytes, application/octet-stream."""
    data = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": "application/octet-stream", **(headers or {})}
    return client.post("/ui/documents", params={"name": name}, content=data, headers=headers)


def _document_id(response):
    return re.search(r'data-document-id="([0-9a-f-]+)"', response.text).group(1)


@pytest.mark.parametrize("path", ["/ui/review", "/ui/queue", "/ui/models"])
def test_pages_render_and_load_nothing_from_another_origin(client, path):
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for url in re.findall(r'(?:src|href)="([^"]*)"', page.text):
        assert url.startswith("/"), url  # every asset from this gateway
    for asset in re.findall(r'(?:src|href)="(/ui/static/[^"]*)"', page.text):
        assert client.get(asset).status_code == 200
    assert client.get("/ui/static/../app.py").status_code == 404
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/review"


def test_a_contract_is_split_classified_and_logged_like_the_api(client):
    response = _upload(client)
    assert response.status_code == 200, response.text
    assert response.text.count('<tr class="provision ') == 3
    assert re.findall(r'class="predicted">([a-z_]+)<', response.text) == [
        "governing_law",
        "termination",
        "confidentiality",
    ]
    predictions = _rows(client, PredictionRow)
    api = client.post("/v1/classify", json={"texts": [predictions[0].text]}).json()["predictions"][0]
    via_api = _store(client).get_prediction(api["prediction_id"])
    for row in predictions:  # stored exactly as /v1/classify stores a prediction
        assert (row.model_name, row.model_version, row.route) == (
            via_api.model_name,
            via_api.model_version,
            via_api.route,
        )
    assert predictions[0].scores == via_api.scores and "70%" in response.text
    (document,) = _rows(client, ReviewDocumentRow)
    assert document.name == "contract.txt" and [p["prediction_id"] for p in document.provisions] == [
        r.id for r in sorted(predictions, key=lambda r: CONTRACT.index(r.text[:20]))
    ]


def test_confirm_and_correct_in_place_then_export_csv_and_json(client):
    document_id = _document_id(_upload(client))
    ids = [p["prediction_id"] for p in _rows(client, ReviewDocumentRow)[0].provisions]
    assert (
        client.post("/ui/feedback", json={"prediction_id": ids[0], "label": "governing_law"}).json()["status"]
        == "confirmed"
    )
    corrected = client.post("/ui/feedback", json={"prediction_id": ids[1], "label": "payment_terms"})
    assert corrected.status_code == 200 and corrected.json()["status"] == "corrected"
    api = client.post("/v1/feedback", json={"prediction_id": ids[2], "label": "payment_terms"}).json()
    rows = {r.prediction_id: r for r in _rows(client, FeedbackRow)}
    ui, via_api = rows[ids[1]], rows[ids[2]]  # the same correction, through the console and the API
    assert (ui.label, ui.predicted_label, ui.model_version) == ("payment_terms", "termination", 7)
    assert (via_api.label, via_api.model_version, via_api.export_id) == (api["label"], ui.model_version, ui.export_id)
    assert 'lexflow_feedback_total{correct="false",version="7"} 2.0' in client.get("/metrics").text

    exported = list(csv.DictReader(io.StringIO(client.get(f"/ui/documents/{document_id}/export.csv").text)))
    assert [(r["predicted_label"], r["label"], r["status"]) for r in exported] == [
        ("governing_law", "governing_law", "confirmed"),
        ("termination", "payment_terms", "corrected"),
        ("confidentiality", "payment_terms", "corrected"),
    ]
    document = client.get(f"/ui/documents/{document_id}/export.json").json()
    assert document["document"] == "contract.txt" and document["provisions"][1]["label"] == "payment_terms"
    assert document["provisions"][1]["confidence"] == pytest.approx(0.7)
    assert client.get(f"/ui/documents/{document_id}").status_code == 200
    page = client.get(f"/ui/documents/{document_id}/view")
    assert page.status_code == 200 and "3 of 3 provisions reviewed" in page.text
    assert client.get(f"/ui/documents/{document_id}/export.xml").status_code == 404
    assert client.get("/ui/documents/00000000-0000-0000-0000-000000000000/view").status_code == 404


@pytest.mark.parametrize(
    "name, body, status, message",
    [
        ("contract.txt", b"", 422, "empty"),
        ("contract.exe", b"MZ\x90\x00binary", 415, "unsupported file type"),
        ("contract.txt", b"\x00\x01\x02binary\x00\xff" * 50, 415, ""),
        ("contract.txt", "... --- ...\n\n!!!", 422, ""),
        ("contract.txt", b"x" * (10 * 1024 * 1024 + 1), 413, "exceeds"),
        ("../etc/passwd", b"Text.", 400, "name"),
    ],
)
def test_bad_documents_get_a_clear_4xx_and_store_nothing(client, name, body, status, message):
    response = _upload(client, body, name)
    assert response.status_code == status, response.text
    assert message in response.json()["error"] and response.json()["error"]
    assert _store(client).counts()["predictions"] == 0 and _rows(client, ReviewDocumentRow) == []


def test_a_provision_over_the_text_limit_refuses_the_whole_document(tmp_path):
    with gateway(tmp_path, max_text_chars=120) as client:
        response = _upload(client, CONTRACT + "\n\n4. Payment. " + "Fees are payable. " * 20)
        assert response.status_code == 413 and "exceeds the limit" in response.json()["error"]
        assert _store(client).counts()["predictions"] == 0


def test_writes_need_the_key_and_reads_do_not(tmp_path):
    with gateway(tmp_path, api_key="secret") as client:
        assert client.get("/ui/review").status_code == 200 and client.get("/ui/models").status_code == 200
        refused = _upload(client)
        assert refused.status_code == 401 and "API key" in refused.json()["error"]
        assert client.post("/ui/queue/next", headers=REVIEWER).status_code == 401
        assert client.post("/ui/feedback", json={"prediction_id": "x", "label": "termination"}).status_code == 401
        assert _store(client).counts() == {"predictions": 0, "feedback": 0}
        assert _upload(client, headers={"X-API-Key": "secret"}).status_code == 200


def test_queue_claims_answers_and_skips(client):
    ids = [
        p["prediction_id"]
        for p in client.post("/v1/classify", json={"texts": [GOVERNING, "Unclear clause."]}).json()["predictions"]
    ]
    assert client.post("/ui/queue/next").status_code == 400  # no reviewer id
    first = client.post("/ui/queue/next", headers=REVIEWER)
    held = re.search(r'data-prediction-id="([^"]+)"', first.text).group(1)
    assert "0 reviewed of 2" in first.text and held == ids[1]  # no keyword: the stand-in is unsure
    other = client.post("/ui/queue/next", headers={"X-Reviewer": "reviewer-two"})
    assert re.search(r'data-prediction-id="([^"]+)"', other.text).group(1) == ids[0]
    lost = client.post(
        f"/ui/queue/{held}/answer", json={"label": "termination"}, headers={"X-Reviewer": "reviewer-two"}
    )
    assert lost.status_code == 409 and "another reviewer" in lost.json()["error"]
    answered = client.post(f"/ui/queue/{held}/answer", json={"label": "termination"}, headers=REVIEWER)
    assert answered.status_code == 200 and _store(client).corrections(held)[0].label == "termination"
    assert client.post(f"/ui/queue/{ids[0]}/skip", headers={"X-Reviewer": "reviewer-two"}).json()["skipped"]
    assert 'id="queue-empty"' in client.post("/ui/queue/next", headers={"X-Reviewer": "reviewer-two"}).text
    assert "1 reviewed of 2" in client.post("/ui/queue/next", headers=REVIEWER).text
    bad = client.post(f"/ui/queue/{ids[0]}/answer", json={"label": "nonsense"}, headers=REVIEWER)
    assert bad.status_code == 422 and "unknown label" in bad.json()["error"]


def test_models_page_shows_routing_accuracy_agreement_drift_and_lineage(tmp_path):
    reports = tmp_path / "reports"
    write_lineage(reports, 9, {"spans": [1, 2], "blessed": True, "evaluation": {"accuracy": 0.91, "macro_f1": None}})
    (reports / "drift-live.json").write_text(
        json.dumps(
            {
                "drifted": True,
                "report": "drift-live-1.html",
                "current_rows": 50,
                "measures": [
                    {"feature": "text_length", "metric": "JSD", "value": 0.31, "threshold": 0.1, "drifted": True}
                ],
            }
        )
    )
    version = tmp_path / "models" / "lexflow" / "7" / "assets.extra"
    version.mkdir(parents=True)
    (version / "lexflow_push.json").write_text(json.dumps({"fingerprint": "abc123", "model_artifact_id": 42}))
    with gateway(tmp_path, backend=StandInBackend(versions=(7, 9)), reports_dir=reports) as client:
        client.put("/v1/routing", json={"production": 9, "shadow": 7})
        ids = [
            p["prediction_id"]
            for p in client.post("/v1/classify", json={"texts": [GOVERNING] * 2}).json()["predictions"]
        ]
        client.post("/v1/feedback", json={"prediction_id": ids[0], "label": "governing_law"})
        client.post("/v1/feedback", json={"prediction_id": ids[1], "label": "termination"})
        page = client.get("/ui/models").text
    nine = page[page.index('id="version-9"') : page.index('id="version-7"')]
    assert 'class="badge production"' in nine and "live accuracy 50.0%" in nine and "<polyline" in nine
    assert "<rect" in nine and "100.0%" in nine  # shadow version 7 agreed on both
    assert "spans" in nine and "[1, 2]" in nine and "accuracy: 0.9100" in nine and "macro_f1" not in nine
    seven = page[page.index('id="version-7"') :]
    assert 'class="badge shadow"' in seven and "abc123" in seven and "no feedback yet" in seven
    assert "Drift detected" in page and "/v1/reports/drift-live-1.html" in page
    assert "text_length" in page and "0.310" in page


def test_without_a_key_stored_texts_are_not_shown_unless_allowed(tmp_path):
    with gateway(tmp_path) as client:
        document_id = _document_id(_upload(client))
        for response in (
            client.get(f"/ui/documents/{document_id}/view"),
            client.get(f"/ui/documents/{document_id}/export.json"),
            client.post("/ui/queue/next", headers=REVIEWER),
        ):
            assert response.status_code == 403 and "LEXFLOW_API_KEY" in response.json()["error"]
