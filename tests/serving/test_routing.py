"""Routing: pinned versions, production/staging with a canary share, shadow scoring; the state shared
by replicas through the store, its audit trail, routing.json, and what happens while a routed
version is not (yet) loaded."""

import json
import time

import pytest

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


def _classify(client, query=""):
    return client.post(f"/v1/classify{query}", json={"texts": GOVERNING}).json()


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_newest_by_default_pinned_canary_and_shadow(tmp_path):
    backend = StandInBackend(versions=(7,))
    with gateway(tmp_path, backend) as client:
        backend.push(9)  # a new version arrives while serving
        assert _classify(client)["model_version"] == 9
        assert _classify(client, "?version=7")["route"] == "pinned"
        routing = client.get("/v1/routing").json()
        assert {k: routing[k] for k in ("production", "staging", "canary_share", "shadow", "revision")} == {
            "production": None,
            "staging": None,
            "canary_share": 0.0,
            "shadow": None,
            "revision": 0,
        }

        routing = client.put("/v1/routing", json={"production": 7, "staging": 9, "canary_share": 1.0, "shadow": 7})
        assert routing.status_code == 200 and routing.json()["staging"] == 9 and routing.json()["in_effect"]
        assert backend.retained == {7, 9}  # routed versions are never unloaded while on disk
        canary = _classify(client)
        assert canary["route"] == "staging" and canary["model_version"] == 9
        client.put("/v1/routing", json={"canary_share": 0.0})
        stable = _classify(client)
        assert stable["route"] == "production" and stable["model_version"] == 7
        labelled = client.post("/v1/models/lexflow/labels/canary:predict", json={"instances": ["x"]})
        assert labelled.headers["X-Model-Version"] == "9"
        assert _classify(client, "?label=stable")["model_version"] == 7
        # Shadow scoring is logged for comparison, never returned.
        row = client.app.state.gateway.store.get_prediction(canary["predictions"][0]["prediction_id"])
        assert row.shadow_version == 7 and row.shadow_label == "governing_law"


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"staging": 12345}, 404, "not being served"),
        ({"production": 8}, 404, "not being served"),
        ({"shadow": 1}, 404, "not being served"),
        ({"canary_share": None}, 422, "not null"),
        ({"canary_share": 1.5}, 422, "canary_share"),
        ({"production": -1}, 422, "production"),
        ({"production": 2**63}, 422, "production"),
        ({"production": 99999999999999999999}, 422, "production"),
        ({"production": "7x"}, 422, "production"),
        ({"production": 7.5}, 422, "production"),
        ({"production": 7.0}, 422, "not float"),  # a version is an integer, not a number that looks like one
        ({"production": True}, 422, "not bool"),  # pydantic alone reads true as version 1
        ({"shadow": False}, 422, "not bool"),
        ({"canary_share": True}, 422, "not bool"),
        ({}, 422, "at least one"),  # no empty revision in the audit trail
        ({"revision": 3}, 422, "revision"),
    ],
)
def test_bad_routing_changes_are_a_clear_4xx_and_change_nothing(client, body, status, message):
    response = client.put("/v1/routing", json=body)
    assert response.status_code == status and message in response.json()["error"], response.json()
    assert client.get("/v1/routing").json()["revision"] == 0
    assert client.get("/v1/routing/history").json()["changes"] == []


def test_a_change_on_one_replica_takes_effect_on_the_other_and_survives_a_restart(tmp_path):
    """Two gateways on one store (SQLite here; PostgreSQL in tests/e2e/test_scale_out.py)."""
    fast = {"routing_refresh_seconds": 0.05}
    with (
        gateway(tmp_path, StandInBackend(versions=(7, 9)), **fast) as a,
        gateway(tmp_path, StandInBackend(versions=(7, 9)), **fast) as b,
    ):
        assert _classify(b)["model_version"] == 9
        changed = a.put("/v1/routing", json={"production": 7, "staging": 9, "canary_share": 1.0}, headers=_agent())
        assert changed.json()["revision"] == 1
        assert _wait(lambda: b.get("/v1/routing").json()["revision"] == 1)
        assert _classify(b)["model_version"] == 9 and _classify(b)["route"] == "staging"
        assert b.post("/v1/models/lexflow/labels/canary:predict", json={"instances": ["x"]}).status_code == 200
        b.put("/v1/routing", json={"canary_share": 0.0})
        assert _wait(lambda: _classify(a)["route"] == "production")
        assert _classify(a)["model_version"] == 7  # the rollback pin, on both

        history = a.get("/v1/routing/history").json()["changes"]
        assert [c["revision"] for c in history] == [2, 1]
        assert history[1]["before"]["production"] is None and history[1]["after"]["production"] == 7
        assert history[1]["client"].startswith("http testclient (no API key; pytest-agent")
        routing_file = json.loads((tmp_path / "models" / "lexflow" / "routing.json").read_text())
        assert routing_file == {
            "model_name": "lexflow",
            "production": 7,
            "staging": 9,
            "canary_share": 0.0,
            "shadow": None,
            "updated_at": history[0]["at"],
        }
    with gateway(tmp_path, StandInBackend(versions=(7, 9))) as restarted:
        assert _classify(restarted)["model_version"] == 7  # a restart keeps the pin, from the first request


def test_a_change_waits_for_its_versions_on_a_replica_that_has_not_loaded_them(tmp_path):
    fast = {"routing_refresh_seconds": 0.05}
    behind = StandInBackend(versions=(7,))
    with gateway(tmp_path, StandInBackend(versions=(7, 9)), **fast) as a, gateway(tmp_path, behind, **fast) as b:
        a.put("/v1/routing", json={"staging": 9, "canary_share": 1.0})
        assert _wait(lambda: b.get("/v1/routing").json()["revision"] == 1)
        waiting = b.get("/v1/routing").json()
        assert not waiting["in_effect"] and waiting["pending_versions"] == [9] and waiting["staging"] == 9
        assert 9 in behind.retained  # asked to load it
        assert _classify(b)["model_version"] == 7  # the previous state keeps routing: no error meanwhile
        assert b.get("/readyz").status_code == 200
        behind.push(9)
        assert _wait(lambda: b.get("/v1/routing").json()["in_effect"])
        assert _classify(b)["model_version"] == 9


def test_a_routed_version_that_disappears_makes_the_replica_unready_and_answers_503(tmp_path):
    backend = StandInBackend(versions=(7, 9))
    with gateway(tmp_path, backend) as client:
        client.put("/v1/routing", json={"production": 7})
        backend.remove(7)  # deleted from disk
        down = client.post("/v1/classify", json={"texts": GOVERNING})
        assert down.status_code == 503 and "production version 7" in down.json()["error"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "routing names version(s) [7]" in ready.json()["error"]
        assert client.post("/v1/classify?version=9", json={"texts": GOVERNING}).status_code == 200
        assert client.post("/v1/classify?version=7", json={"texts": GOVERNING}).status_code == 404  # the client's pin
        assert "lexflow_model_ready 0.0" in client.get("/metrics").text


def test_history_needs_the_key_when_one_is_set(tmp_path):
    with gateway(tmp_path, api_key="k") as client:
        assert client.get("/v1/routing/history").status_code == 401
        assert client.put("/v1/routing", json={"production": 7}, headers={"X-API-Key": "k"}).status_code == 200
        changes = client.get("/v1/routing/history", headers={"X-API-Key": "k"}).json()["changes"]
        assert changes[0]["client"].startswith("http testclient (API key;")


def _agent():
    return {"User-Agent": "pytest-agent"}
