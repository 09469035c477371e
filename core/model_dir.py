"""The model directory's rules: `<model base dir>/<model name>/<version>/`, as the Pusher writes it
and TF Serving, the gateway, ProductionBaseline and the console read it.

- A version is a whole number from 0 to MAX_VERSION (2^63 - 1: 64-bit everywhere; the Pusher names
  versions by UNIX time). Its directory's name is that number in plain ASCII digits without leading
  zeros, as the Pusher writes it. Anything else is not a version, for every reader here: `007`,
  `²`, `99999999999999999999`, `backup`. (TF Serving itself would read `007` as 7; refusing it
  everywhere means no reader here ever names, routes to or compares with a version the Pusher did
  not write, and all readers agree on the set.)
- A version is complete once its `saved_model.pb` (SAVED_MODEL) is there: the Pusher renames a
  whole staged directory into place, or on an object store copies that file last.
- Each pushed version holds the Pusher's record (PUSH_RECORD: fingerprint, model artifact, push
  time) in `assets.extra/`, the folder TF Serving reserves for extras.
- `routing.json` beside the versions is the routing state's copy (core/routing_file.py).
Hidden entries (`.staging-*`, `.claims`) belong to the Pusher and are never versions.

Pure functions over names, so a local folder and a bucket (tf.io.gfile) are treated alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Optional

MAX_VERSION = 2**63 - 1
SAVED_MODEL = "saved_model.pb"  # the completeness marker
PUSH_RECORD = "assets.extra/lexflow_push.json"
_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)


def parse_version(text: str) -> Optional[int]:
    """The version a directory name (or a request parameter) spells canonically, else None."""
    if not _DIGITS.fullmatch(text) or (len(text) > 1 and text[0] == "0"):
        return None
    value = int(text)
    return value if value <= MAX_VERSION else None


def is_version_name(name: str) -> bool:
    return parse_version(name) is not None


def versions(names: Iterable[str]) -> list[int]:
    """The versions among directory names (a trailing `/`, as object stores list folders, is ignored), sorted."""
    parsed = (parse_version(name.rstrip("/")) for name in names)
    return sorted(v for v in parsed if v is not None)


def saved_model_path(version_dir: str) -> str:
    """Where a version's completeness marker is (`version_dir` a local path or a bucket URI)."""
    return f"{str(version_dir).rstrip('/')}/{SAVED_MODEL}"
