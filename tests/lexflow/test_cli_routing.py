"""`lexflow promote`, `lexflow rollback`, `lexflow routing`: the shared routing state from the command
line, like a model registry's aliases, with the same audit trail and routing.json as the API."""

import json

import pytest
from typer.testing import CliRunner

from feedback import FeedbackStore
from lexflow.cli import app


@pytest.fixture
def setup(routed_models):
    return routed_models


def _run(*args):
    return CliRunner().invoke(app, list(args))


def _routing_file(root):
    return json.loads((root / "models" / "lexflow" / "routing.json").read_text())


def test_promote_to_staging_then_production_then_roll_back(setup):
    root, store = setup
    result = _run("promote", "300", "--to", "staging", "--canary-share", "0.1")
    assert result.exit_code == 0, result.output
    assert "staging: none -> 300" in result.output and "canary_share: 0 -> 0.1" in result.output
    assert (store.routing("lexflow").staging, store.routing("lexflow").canary_share) == (300, 0.1)

    assert _run("promote", "200", "--to", "production").exit_code == 0
    assert _run("promote", "300", "--to", "production").exit_code == 0  # the canary graduates
    state = store.routing("lexflow")
    assert (state.production, state.staging, state.canary_share) == (300, None, 0.0)
    assert _routing_file(root)["production"] == 300 and _routing_file(root)["staging"] is None

    rolled = _run("rollback")
    assert rolled.exit_code == 0, rolled.output
    assert "production: 300 -> 200" in rolled.output and store.routing("lexflow").production == 200
    assert _routing_file(root)["production"] == 200
    history = store.routing_history("lexflow")
    assert [c.action for c in history] == [
        "rollback",
        "promote to production",
        "promote to production",
        "promote to staging",
    ]
    assert history[0].client.startswith("cli ")

    shown = _run("routing", "--history", "2")
    assert shown.exit_code == 0 and "production=200" in shown.output and "rollback" in shown.output


def test_rollback_without_history_goes_to_the_version_below_the_newest(setup):
    _root, store = setup
    assert _run("rollback").exit_code == 0
    assert store.routing("lexflow").production == 200
    assert _run("rollback", "--to", "100").exit_code == 0 and store.routing("lexflow").production == 100


@pytest.mark.parametrize(
    "args, message",
    [
        (["promote", "400", "--to", "production"], "version 400 is not under"),
        (["promote", "300", "--to", "prod"], "--to: must be staging or production"),
        (["promote", "99999999999999999999", "--to", "staging"], "a version is a whole number"),
        (["promote", "007", "--to", "staging"], "a version is a whole number"),
        (["rollback", "--to", "5"], "--to 5: not a version"),
        (["promote", "300", "--to", "staging", "--database-url", "postgresql+psycopg://u@127.0.0.1:1/x"], "store"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(setup, args, message):
    _root, store = setup
    result = _run(*args)
    assert result.exit_code == 2 and "error:" in result.output and message in result.output, result.output
    assert "Traceback" not in result.output
    assert store.routing("lexflow").revision == 0


def test_promote_from_where_the_model_volume_is_not_mounted(setup, monkeypatch):
    root, store = setup
    monkeypatch.setenv("LEXFLOW_MODEL_BASE_DIR", str(root / "not-mounted"))
    result = _run("promote", "400", "--to", "production")
    assert result.exit_code == 0 and "is not checked" in result.output, result.output
    assert store.routing("lexflow").production == 400
    assert not (root / "not-mounted").exists()  # no routing.json invented here


@pytest.fixture
def workspace_of_contracts(tmp_path, monkeypatch):
    """A workspace (LEXFLOW_HOME) where only model `contracts` was trained and pushed, its data root
    `contracts/`, and no LEXFLOW_* settings: as after README "Your own data"."""
    for name in ("LEXFLOW_DATABASE_URL", "LEXFLOW_MODEL_BASE_DIR", "LEXFLOW_MODEL_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEXFLOW_HOME", str(tmp_path))
    (tmp_path / "artifacts" / "serving" / "contracts" / "500").mkdir(parents=True)
    (tmp_path / "artifacts" / "serving" / "contracts" / "500" / "saved_model.pb").write_bytes(b"x")
    (tmp_path / "contracts" / "span-0").mkdir(parents=True)
    return tmp_path


def test_promote_without_a_model_name_refuses_a_model_that_does_not_exist(workspace_of_contracts):
    root = workspace_of_contracts
    result = _run("promote", "500", "--to", "production")
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no model 'lexflow' here" in errors[0] and "models here: contracts" in errors[0]
    assert not (root / "artifacts" / "lexflow").exists()  # no store created, no routing recorded


@pytest.mark.parametrize("naming", [["--data-root", "contracts"], ["--model-name", "contracts"]])
def test_every_routing_command_names_its_model_and_store(workspace_of_contracts, naming):
    root = workspace_of_contracts
    store_file = root / "artifacts" / "contracts" / "feedback.sqlite"
    result = _run("promote", "500", "--to", "production", *naming)
    assert result.exit_code == 0, result.output
    assert "model contracts (" in result.output and f"feedback store sqlite:///{store_file}" in result.output
    assert FeedbackStore(f"sqlite:///{store_file}").routing("contracts").production == 500
    for command in (["routing"], ["rollback", "--to", "500"]):
        shown = _run(*command, *naming)
        assert shown.exit_code == 0 and "model contracts (" in shown.output, shown.output
    assert _run("routing", "--model-name", "contratcs").exit_code == 2  # a typo is refused, not created
    assert not (root / "artifacts" / "contratcs").exists()
