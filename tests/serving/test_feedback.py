"""POST/GET /v1/feedback and POST /v1/feedback/export against the stand-in backend."""

from pathlib import Path

import pytest

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, TERMINATION


def _predict(client, *texts):
    return [p["prediction_id"] for p in client.post("/v1/classify", json={"texts": list(texts)}).json()["predictions"]]


@pytest.fixture
def open_client(tmp_path):
    """No API key, and listing stored texts explicitly allowed."""
    with gateway(tmp_path, allow_unauthenticated_text_listing=True) as client:
        yield client


def test_feedback_is_stored_counted_and_listed(open_client):
    client = open_client
    ids = _predict(client, GOVERNING, GOVERNING)
    assert client.post("/v1/feedback", json={"prediction_id": ids[0], "label": "governing_law"}).status_code == 201
    wrong = client.post("/v1/feedback", json={"prediction_id": ids[1], "label": "termination"})
    assert wrong.status_code == 201 and wrong.json()["predicted_label"] == "governing_law"
    assert (
        client.post("/v1/feedback", json={"text": "Fees are payable monthly.", "label": "payment_terms"}).status_code
        == 201
    )

    health = client.get("/v1/health").json()
    assert health["feedback"] == 3 and health["versions"][0]["live_accuracy"] == pytest.approx(0.5)
    listed = client.get("/v1/feedback").json()
    assert [f["label"] for f in listed["items"]] == ["governing_law", "termination", "payment_terms"]
    assert listed["items"][1]["text"] == GOVERNING and listed["next_after_id"] is None
    page = client.get("/v1/feedback", params={"after_id": listed["items"][0]["id"], "limit": 1}).json()
    assert [f["label"] for f in page["items"]] == ["termination"] and page["next_after_id"] == page["items"][0]["id"]
    assert 'lexflow_feedback_total{correct="false",version="7"} 1.0' in client.get("/metrics").text


@pytest.mark.parametrize(
    "payload, status, message",
    [
        ({"label": "no_such_label"}, 422, "unknown label"),
        ({"prediction_id": "00000000-0000-0000-0000-000000000000", "label": "termination"}, 404, "no prediction"),
        ({"label": "termination", "prediction_id": None}, 422, "prediction_id or a text"),
        ({"text": "   ", "label": "termination"}, 422, "empty text"),
        ({"label": "termination", "extra": 1}, 422, "extra"),
        ({"label": "termination", "text": "Other text."}, 422, "does not match"),
        ({"label": "termination", "prediction_id": "../../etc"}, 422, "prediction_id"),
    ],
)
def test_bad_feedback_is_a_clear_4xx_and_stores_nothing(client, payload, status, message):
    if "prediction_id" not in payload or payload.get("text") == "Other text.":
        payload = {"prediction_id": _predict(client, GOVERNING)[0], **payload}
    response = client.post("/v1/feedback", json=payload)
    assert response.status_code == status and message in response.json()["error"], response.json()
    assert client.get("/v1/health").json()["feedback"] == 0


def test_export_writes_the_next_span_once_and_needs_the_key(tmp_path):
    with gateway(tmp_path, api_key="k") as client:
        key = {"X-API-Key": "k"}
        ids = _predict(client, GOVERNING, TERMINATION)
        for prediction_id in ids:
            client.post("/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"}, headers=key)
        assert client.post("/v1/feedback/export").status_code == 401
        assert client.post("/v1/feedback/export", params={"min_rows": 3}, headers=key).json()["span"] is None
        first = client.post("/v1/feedback/export", headers=key).json()
        assert first["span"] == 0 and first["rows"] == 2 and first["path"] == str(tmp_path / "data/span-0/feedback.csv")
        assert Path(first["path"]).read_text().splitlines()[0] == "text,label,source"
        assert client.post("/v1/feedback/export", headers=key).json() == {
            "span": None,
            "rows": 0,
            "path": None,
            "first_feedback_id": None,
            "last_feedback_id": None,
            "claimed": 0,
        }


def test_api_key_guards_writes_and_stored_texts_only(tmp_path):
    with gateway(tmp_path, api_key="s3cret") as client:
        prediction_id = _predict(client, GOVERNING)[0]
        body = {"prediction_id": prediction_id, "label": "governing_law"}
        assert client.post("/v1/feedback", json=body).status_code == 401
        assert client.post("/v1/feedback", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/v1/feedback").status_code == 401
        assert client.put("/v1/routing", json={"canary_share": 0.5}).status_code == 401
        assert client.post("/v1/feedback", json=body, headers={"X-API-Key": "s3cret"}).status_code == 201
        assert client.post("/v1/feedback", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 201
        assert client.get("/v1/routing").status_code == 200 and client.get("/v1/health").status_code == 200


def test_without_a_key_stored_texts_are_not_listed_unless_allowed(client, caplog):
    prediction_id = _predict(client, GOVERNING)[0]
    assert client.post("/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"}).status_code == 201
    for path in ("/v1/feedback", f"/v1/predictions/{prediction_id}/feedback"):
        refused = client.get(path)
        assert refused.status_code == 403 and "LEXFLOW_API_KEY" in refused.json()["error"]
        assert GOVERNING not in refused.text


def test_the_latest_correction_counts_and_the_history_is_kept(open_client):
    client = open_client
    right, other = _predict(client, GOVERNING, GOVERNING)
    first = client.post("/v1/feedback", json={"prediction_id": right, "label": "termination"}).json()
    second = client.post("/v1/feedback", json={"prediction_id": right, "label": "confidentiality"}).json()
    third = client.post("/v1/feedback", json={"prediction_id": right, "label": "governing_law"}).json()
    client.post("/v1/feedback", json={"prediction_id": other, "label": "termination"})

    version = client.get("/v1/health").json()["versions"][0]
    assert (version["feedback"], version["correct"]) == (2, 1)  # the latest of 3 corrections of `right` counts
    history = client.get(f"/v1/predictions/{right}/feedback").json()
    assert [h["label"] for h in history["history"]] == ["termination", "confidentiality", "governing_law"]
    assert [h["superseded_by"] for h in history["history"]] == [second["id"], third["id"], None]
    assert history["current"]["id"] == third["id"] and first["superseded_by"] is None  # as answered then
    listed = client.get("/v1/feedback").json()["items"]
    assert len(listed) == 4 and not any(item["exported"] for item in listed)
    assert client.get("/v1/predictions/00000000-0000-0000-0000-000000000000/feedback").status_code == 404
    assert client.get("/v1/predictions/..%2F..%2Fetc/feedback").status_code in (404, 422)

    exported = client.post("/v1/feedback/export").json()
    assert (exported["claimed"], exported["rows"]) == (4, 2)
    rows = Path(exported["path"]).read_text().splitlines()[1:]
    assert rows == [f"{GOVERNING},governing_law,feedback", f"{GOVERNING},termination,feedback"]
    assert all(item["exported"] for item in client.get("/v1/feedback").json()["items"])


def test_concurrent_exports_write_each_row_once_and_busy_callers_get_409(tmp_path):
    import concurrent.futures

    with gateway(tmp_path, allow_unauthenticated_text_listing=True, export_wait_seconds=0) as client:
        ids = _predict(client, *[f"{GOVERNING} {i}" for i in range(40)])
        for prediction_id in ids:
            client.post("/v1/feedback", json={"prediction_id": prediction_id, "label": "termination"})
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client.post("/v1/feedback/export"), range(8)))
        statuses = sorted(a.status_code for a in answers)
        assert set(statuses) <= {200, 409} and 200 in statuses, statuses
        busy = [a.json()["error"] for a in answers if a.status_code == 409]
        assert all("another export is in progress" in e for e in busy)
        spans = [a.json() for a in answers if a.status_code == 200 and a.json()["span"] is not None]
        assert len(spans) == 1 and spans[0]["rows"] == 40
        written = Path(spans[0]["path"]).read_text().splitlines()[1:]
        assert sorted(written) == sorted(f"{GOVERNING} {i},termination,feedback" for i in range(40))


def test_recording_feedback_raises_domain_errors_not_http_ones(open_client):
    """The service layer (serving/corrections.py) that the API and the console share knows nothing
    of HTTP: an unknown label is UnknownLabel, which serving/errors.py answers as 422."""
    import asyncio

    from serving.corrections import UnknownLabel, record_feedback
    from serving.errors import as_api_error

    gateway = open_client.app.state.gateway
    with pytest.raises(UnknownLabel, match="unknown label 'no_such_label'") as raised:
        asyncio.run(record_feedback(gateway.service, gateway.store, gateway.metrics, "no_such_label", text="A text."))
    assert as_api_error(raised.value).status == 422
