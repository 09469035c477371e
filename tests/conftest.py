"""Shared fixtures. Keras 2 must be selected before any test imports TensorFlow."""
from trainer import tf_env  # noqa: F401

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


@pytest.fixture
def repo_root() -> Path:
    return REPO
