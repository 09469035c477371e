"""Shared fixtures. Keras 2 must be selected before any test imports TensorFlow."""

import core.tf_env  # noqa: F401

import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SCHEMA = REPO / "schema" / "demo" / "schema.pbtxt"


@pytest.fixture(autouse=True)
def _root_logger_at_warning():
    """An in-process pipeline run (session fixtures) quiets the root logger to ERROR, as the CLI
    does; a test's own warnings must still reach caplog, whatever ran before it."""
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.WARNING)
    yield
    root.setLevel(saved)


@pytest.fixture
def repo_root() -> Path:
    return REPO


def small_pipeline_config(root: Path, *, search: bool = False):
    """The real pipeline, sized for tests: a few hundred rows, few steps, low bars to bless.

    `search`: the model search as a user gets it (both families, few trials); off, the Trainer trains
    `train` as given (a user's explicit settings), which keeps the many other pipeline runs of the suite short.
    """
    from pipeline.config import PipelineConfig

    return PipelineConfig.model_validate(
        {
            "data_root": root / "data",
            "model_name": "lexflow",  # the gateway tests serve <serving_dir>/lexflow
            "schema_path": SCHEMA,
            "pipeline_root": root / "pipeline",
            "metadata_path": root / "metadata.sqlite",
            "serving_dir": root / "serving",
            "transform": {"vocab_size": 5000},
            "train": {"train_steps": 150, "eval_steps": 5, "hidden_units": 64},
            "tuning": {"enabled": search, "max_trials": 3},
            "thresholds": {"min_accuracy": 0.5, "min_macro_f1": 0.4},
        }
    )


def write_csv(path: Path, rows: list[dict], extra: list[str]) -> None:
    """datagen's CSV (text,label,source) with `extra` columns."""
    import csv

    from datagen.generator import FIELDS

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*FIELDS, *extra], lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@dataclass
class PipelineRun:
    config: object
    summary: object

    @property
    def model_dir(self) -> Path:
        return Path(self.summary.pushed_path)


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory) -> PipelineRun:
    """One real pipeline run per test session: its pushed model serves the API tests too."""
    from datagen import generate_rows
    from lexflow.runs.local_run import run_local

    root = tmp_path_factory.mktemp("pipeline-run")
    # A user's own evaluation data (README "Your own data"): span-0/train/ and span-0/eval/ folders,
    # rows grouped by a `document` column. Other runs of the suite use a plain corpus.csv (hash split).
    rows = [{**row, "document": f"contract-{i // 10}"} for i, row in enumerate(generate_rows(500, seed=11))]
    write_csv(root / "data" / "span-0" / "train" / "corpus.csv", rows[:400], extra=["document"])
    write_csv(root / "data" / "span-0" / "eval" / "holdout.csv", rows[400:], extra=["document"])
    # With the model search: the model every real-model test serves is the one a user's run would choose.
    config = small_pipeline_config(root, search=True)
    return PipelineRun(config, run_local(config))


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A real PostgreSQL (never a mock). Skipped only when the server is not installed and
    LEXFLOW_REQUIRE_POSTGRES is unset; CI sets it, so there a missing server fails."""
    import os

    from tests.postgres import pg_bin, run_server

    if pg_bin() is None:
        if os.environ.get("LEXFLOW_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL server binaries not found (apt-get install postgresql)")
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    import shutil
    import tempfile

    # Not under pytest's tmp dir: that is private to root, and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="lexflow-pg-"))
    try:
        yield from run_server(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.sqlite"
    url = request.getfixturevalue("postgres_url")
    # A fresh database per test, on the shared server.
    import uuid

    from sqlalchemy import create_engine, text

    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def routed_models(tmp_path, monkeypatch):
    """Versions 100, 200 and 300 of the `lexflow` model on disk and an empty SQLite store, named in
    the environment as `lexflow promote/rollback/routing` read them: (tmp_path, store)."""
    from feedback import FeedbackStore

    for version in (100, 200, 300):
        (tmp_path / "models" / "lexflow" / str(version)).mkdir(parents=True)
        (tmp_path / "models" / "lexflow" / str(version) / "saved_model.pb").write_bytes(b"x")
    url = f"sqlite:///{tmp_path}/feedback.sqlite"
    monkeypatch.setenv("LEXFLOW_DATABASE_URL", url)
    monkeypatch.setenv("LEXFLOW_MODEL_BASE_DIR", str(tmp_path / "models"))
    return tmp_path, FeedbackStore(url)
