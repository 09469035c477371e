"""A fingerprint of the model code, put into Transform's and Trainer's custom_config.

The components reference the code by module path (so the same installed package runs
locally and in the Kubeflow image); TFX's cache key only sees that string, so without this
fingerprint an edited preprocessing_fn or model would silently reuse a stale cached run.
Settings are not fingerprinted here: each component's own part of the config is in its
custom_config or exec properties already (pipeline/config.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
_FILES = ("trainer/**/*.py",)  # subpackages too (trainer/encoder/)


def code_version() -> str:
    digest = hashlib.sha256()
    for pattern in _FILES:
        for path in sorted(_PACKAGE_ROOT.glob(pattern)):
            digest.update(path.relative_to(_PACKAGE_ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
