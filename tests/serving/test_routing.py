"""Routing: pinned versions, production/staging with a canary share, shadow scoring."""

from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


def _classify(client, query=""):
    return client.post(f"/v1/classify{query}", json={"texts": GOVERNING}).json()


def test_newest_by_default_pinned_canary_and_shadow(tmp_path):
    backend = StandInBackend(versions=(7,))
    with gateway(tmp_path, backend) as client:
        backend.push(9)  # a new version arrives while serving
        assert _classify(client)["model_version"] == 9
        assert _classify(client, "?version=7")["route"] == "pinned"
        assert client.get("/v1/routing").json() == {
            "production": None,
            "staging": None,
            "canary_share": 0.0,
            "shadow": None,
        }

        routing = client.put("/v1/routing", json={"production": 7, "staging": 9, "canary_share": 1.0, "shadow": 7})
        assert routing.status_code == 200 and routing.json()["staging"] == 9
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


def test_routing_to_a_version_not_served_is_a_404_and_changes_nothing(client):
    for body in ({"staging": 12345}, {"production": 8}, {"shadow": 1}):
        response = client.put("/v1/routing", json=body)
        assert response.status_code == 404 and "not being served" in response.json()["error"]
    assert client.put("/v1/routing", json={"canary_share": None}).status_code == 422
    assert client.put("/v1/routing", json={"canary_share": 1.5}).status_code == 422
    assert client.get("/v1/routing").json()["staging"] is None
