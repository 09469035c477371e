"""Which pushed version is in production, and how two models' label sets differ (pure logic).

Listing and reading go through the functions passed in, so a local folder and a bucket
(tf.io.gfile in a pod) are treated alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from core.routing_file import FILE_NAME as ROUTING_FILE  # noqa: F401  (re-exported: written by the gateways)


@dataclass(frozen=True)
class Production:
    version: int
    how: str  # "routing: production" or "newest pushed version"


def production_version(complete: list[int], routing_json: Optional[str]) -> Optional[Production]:
    """The routing file's production version when it names one that is on disk, else the newest."""
    if not complete:
        return None
    if routing_json:
        try:
            named = json.loads(routing_json).get("production")
        except (ValueError, AttributeError):
            named = None
        if isinstance(named, int) and named in complete:
            return Production(named, "routing: production")
    return Production(max(complete), "newest pushed version")


def label_change(candidate: list[str], production: list[str]) -> dict[str, list[str]]:
    """{"added": labels only the candidate has, "removed": labels only production has}; empty when equal."""
    added, removed = sorted(set(candidate) - set(production)), sorted(set(production) - set(candidate))
    return {"added": added, "removed": removed} if added or removed else {}


def describe_change(change: dict[str, list[str]]) -> str:
    """'+new_label; -dropped_label' for messages."""
    added = ", ".join(f"+{label}" for label in change.get("added", []))
    removed = ", ".join(f"-{label}" for label in change.get("removed", []))
    return "; ".join(part for part in (added, removed) if part)


def read_labels(read_text: Callable[[str], str], model_dir: str, vocabulary: str) -> list[str]:
    """A SavedModel's label names: its copy of the Transform label vocabulary (assets/<vocabulary>)."""
    return [line for line in read_text(f"{model_dir.rstrip('/')}/assets/{vocabulary}").splitlines() if line]
