"""Routing changes as `PUT /v1/routing` and `lexflow promote`/`rollback` make them (serving/routing/promotion.py):
the audit keeps the version an unpinned production served, so a promotion made from "newest" rolls back."""

import pytest
from typer.testing import CliRunner

from serving.routing.promotion import rollback_target
from tests.serving.conftest import gateway
from tests.serving.stand_in import GOVERNING, StandInBackend


def test_rollback_after_an_api_promotion_from_newest_returns_to_what_served(tmp_path):
    """Production unpinned (the newest, 9, serves), then pinned to 7 through the API: the audit keeps
    the version "newest" meant, so rollback goes back to 9."""
    with gateway(tmp_path, backend=StandInBackend(versions=(7, 9))) as client:
        assert client.put("/v1/routing", json={"production": 7}).status_code == 200
        store = client.app.state.gateway.store
        (change,) = store.routing_history("lexflow")
        assert change.before["production"] is None and change.before["serving"] == 9
        assert change.after["production"] == 7 and change.after["serving"] == 7
        assert rollback_target(store, store.routing("lexflow"), {7, 9}) == 9
        assert client.put("/v1/routing", json={"production": 9}).status_code == 200
        assert client.post("/v1/classify", json={"texts": GOVERNING}).json()["model_version"] == 9
        assert rollback_target(store, store.routing("lexflow"), {7, 9}) == 7  # and forward again


@pytest.fixture
def on_disk(routed_models):
    return routed_models[1]


@pytest.mark.parametrize("promoted", [200, 100])
def test_cli_rollback_after_a_promotion_from_newest_returns_to_the_newest(on_disk, promoted):
    """Issue 26: `lexflow rollback` said "nothing to roll back to" (the audit held "newest" as null) or
    picked the version below the promoted one, not the one that served."""
    from lexflow.cli import app

    promote = CliRunner().invoke(app, ["promote", str(promoted), "--to", "production"])
    assert promote.exit_code == 0, promote.output
    rolled = CliRunner().invoke(app, ["rollback"])
    assert rolled.exit_code == 0, rolled.output
    assert f"production: {promoted} -> 300" in rolled.output and on_disk.routing("lexflow").production == 300
