"""A gateway with the stand-in backend and a real SQLite store, per test.

Without an API key a gateway refuses every write unless the operator opts in; most route tests
are about the routes, not the key, so `gateway()` opts in (LEXFLOW_ALLOW_UNAUTHENTICATED_WRITES)
unless a test says otherwise. tests/reliability/test_security.py tests the rule itself."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from serving.settings import ServingSettings
from tests.serving.stand_in import StandInBackend


@contextmanager
def gateway(tmp_path: Path, backend: StandInBackend | None = None, **settings: Any) -> Iterator[TestClient]:
    settings.setdefault("database_url", f"sqlite:///{tmp_path}/feedback.sqlite")
    settings.setdefault("export_data_root", tmp_path / "data")
    settings.setdefault("allow_unauthenticated_writes", True)
    config = ServingSettings(model_base_dir=tmp_path / "models", **settings)
    with TestClient(create_app(config, backend=backend or StandInBackend())) as client:
        yield client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with gateway(tmp_path) as client:
        yield client
