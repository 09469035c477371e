"""GET /v1/reports and /v1/reports/{name}, and the lexflow_drift_detected gauge, against the stand-in backend."""

import os

import pytest

from core import reports
from tests.serving.conftest import gateway

PAGE = "<!DOCTYPE html><html><body><h1>drift</h1></body></html>"


def _verdict(directory, drifted: bool, report: str = "drift-live-20250101T000000Z.html") -> None:
    reports.write_verdict(directory, reports.DriftVerdict(drifted, report, "2025-01-01T00:00:00+00:00", 300, 500))


def _gauge(client) -> list[str]:
    return [line for line in client.get("/metrics").text.splitlines() if line.startswith("lexflow_drift_detected")]


def test_lists_and_serves_reports_with_a_policy_that_loads_nothing(tmp_path):
    directory = tmp_path / "reports"
    directory.mkdir()
    (directory / "drift-span-2-vs-1.html").write_text(PAGE, encoding="utf-8")
    (directory / "notes.txt").write_text("not a report")
    _verdict(directory, True)
    with gateway(tmp_path, reports_dir=directory) as client:
        listing = client.get("/v1/reports").json()
        assert [r["name"] for r in listing["reports"]] == ["drift-span-2-vs-1.html"]
        assert listing["reports"][0]["url"] == "/v1/reports/drift-span-2-vs-1.html"
        assert listing["reports"][0]["bytes"] == len(PAGE)
        assert listing["live_drift"]["drifted"] is True and listing["live_drift"]["current_rows"] == 300
        page = client.get("/v1/reports/drift-span-2-vs-1.html")
        assert page.status_code == 200 and page.text == PAGE
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "img-src data:" in policy
        assert page.headers["x-content-type-options"] == "nosniff"


def test_an_empty_or_missing_directory_lists_nothing(tmp_path):
    with gateway(tmp_path, reports_dir=tmp_path / "never-written") as client:
        assert client.get("/v1/reports").json() == {"reports": [], "live_drift": None}
        missing = client.get("/v1/reports/drift-live-1.html")
        assert missing.status_code == 404 and missing.json() == {"error": "no report named 'drift-live-1.html'"}


@pytest.mark.parametrize(
    "path, status",
    [
        ("/v1/reports/..%2Fsecret.html", 404),  # decoded to a path with a slash: no route matches
        ("/v1/reports/%2E%2E%2Fsecret.html", 404),
        ("/v1/reports/..", 404),  # the client resolves dot segments: /v1/
        ("/v1/reports/...html", 400),
        ("/v1/reports/.hidden.html", 400),
        ("/v1/reports/secret.txt", 400),
        ("/v1/reports/link.html", 404),  # a symlink out of the directory
    ],
)
def test_nothing_outside_the_directory_is_served(tmp_path, path, status):
    directory = tmp_path / "reports"
    directory.mkdir()
    secret = tmp_path / "secret.html"
    secret.write_text("private")
    (directory / ".hidden.html").write_text("private")
    (directory / "secret.txt").write_text("private")
    os.symlink(secret, directory / "link.html")
    with gateway(tmp_path, reports_dir=directory) as client:
        response = client.get(path)
        assert response.status_code == status, response.text
        assert "private" not in response.text and "error" in response.json()


def test_reports_need_the_api_key_when_one_is_set(tmp_path):
    directory = tmp_path / "reports"
    directory.mkdir()
    (directory / "drift-live-1.html").write_text(PAGE)
    with gateway(tmp_path, reports_dir=directory, api_key="s3cret") as client:
        assert client.get("/v1/reports").status_code == 401
        assert client.get("/v1/reports/drift-live-1.html").status_code == 401
        assert client.get("/v1/reports", headers={"X-API-Key": "s3cret"}).status_code == 200
        page = client.get("/v1/reports/drift-live-1.html", headers={"Authorization": "Bearer s3cret"})
        assert page.text == PAGE


def test_the_drift_gauge_follows_the_newest_verdict_without_a_restart(tmp_path):
    directory = tmp_path / "reports"
    with gateway(tmp_path, reports_dir=directory) as client:
        # No live report yet: the gauge is declared but has no sample (absent, not a reassuring 0).
        assert _gauge(client) == []
        assert "# TYPE lexflow_drift_detected gauge" in client.get("/metrics").text
        _verdict(directory, True)
        assert _gauge(client) == ["lexflow_drift_detected 1.0"]
        _verdict(directory, False)
        assert _gauge(client) == ["lexflow_drift_detected 0.0"]
        (directory / reports.LIVE_VERDICT_FILE).write_text("{broken")
        assert _gauge(client) == []


def test_two_app_lifetimes_register_the_gauge_once_each(tmp_path):
    from fastapi.testclient import TestClient

    from serving.app import create_app
    from serving.settings import ServingSettings
    from tests.serving.stand_in import StandInBackend

    _verdict(tmp_path, True)
    settings = ServingSettings(
        model_base_dir=tmp_path / "models", database_url=f"sqlite:///{tmp_path}/f.sqlite", reports_dir=tmp_path
    )
    app = create_app(settings, backend=StandInBackend())
    for _ in range(2):  # the lifespan unregisters what it registered; a second start does not collide
        with TestClient(app) as client:
            assert _gauge(client) == ["lexflow_drift_detected 1.0"]
