"""`<model_base_dir>/<model_name>/routing.json`: the routing state, next to the versions it names.

The store holds the routing state (`feedback/routing.py`); this file is a copy for readers that
do not open the store: the pipeline's Evaluator finds "the model in production" here. It is
written on every routing change (the gateway's API and `lexflow promote`/`rollback`, through
`write`), and by every gateway replica when it applies a newer revision, always with the same
content for the same revision; atomically (temporary file, fsync, rename), so a reader sees the
old file or the new one. It is a file, not a directory: model servers looking for version
directories skip it.

    {"model_name": "lexflow", "production": 1763856000 | null, "staging": int | null,
     "canary_share": 0.0, "shadow": int | null, "updated_at": "2025-11-25T21:00:00+00:00"}

`production: null` means "the newest version".
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from core.atomic_file import write_text_atomically

FILE_NAME = "routing.json"


def path(model_base_dir: Path, model_name: str) -> Path:
    return Path(model_base_dir) / model_name / FILE_NAME


def content(
    model_name: str,
    production: Optional[int],
    staging: Optional[int],
    canary_share: float,
    shadow: Optional[int],
    updated_at: Optional[datetime],
) -> dict[str, Any]:
    return {
        "model_name": model_name,
        "production": production,
        "staging": staging,
        "canary_share": float(canary_share),
        "shadow": shadow,
        "updated_at": updated_at.isoformat() if updated_at else None,
    }


def write(model_base_dir: Path, values: dict[str, Any]) -> bool:
    """Write `values` (see `content`) atomically; False when the file already says exactly that."""
    target = path(model_base_dir, values["model_name"])
    encoded = json.dumps(values, indent=2, sort_keys=True) + "\n"
    try:
        if target.read_text(encoding="utf-8") == encoded:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_text_atomically(target, encoded)
    return True


def read(model_base_dir: Path, model_name: str) -> Optional[dict[str, Any]]:
    """The file's content, or None when there is none (never routed: the newest version is production)."""
    try:
        loaded = json.loads(path(model_base_dir, model_name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return loaded if isinstance(loaded, dict) else None
