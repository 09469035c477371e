"""Routing changes, as the API (`PUT /v1/routing`) and the CLI (`lexflow promote`, `lexflow rollback`)
make them: validate the versions, apply and audit the change in the store, write routing.json.

Like a model registry's aliases: `promote V --to staging` points the canary at V, `promote V --to
production` pins production to V (and ends V's canary), `rollback` pins production back to the
version that served before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Optional

from core import routing_file
from feedback import FeedbackStore, RoutingState
from feedback.routing import SERVED
from serving.backends.base import UnknownVersion
from serving.backends.versions import VersionDirectory

log = logging.getLogger("lexflow.gateway")
VERSION_FIELDS = ("production", "staging", "shadow")


def routing_file_content(state: RoutingState) -> dict[str, Any]:
    return routing_file.content(
        state.model_name, state.production, state.staging, state.canary_share, state.shadow, state.updated_at
    )


def publish(model_base_dir: Path, state: RoutingState) -> bool:
    """routing.json for `state` (atomic; a no-op when it already says that). Raises OSError."""
    return routing_file.write(model_base_dir, routing_file_content(state))


def versions_on_disk(model_base_dir: Path, model_name: str) -> set[int]:
    return set(VersionDirectory(Path(model_base_dir) / model_name).scan())


def change_routing(
    store: FeedbackStore,
    model_base_dir: Optional[Path],
    model_name: str,
    changes: dict[str, Any],
    client: str,
    known_versions: Iterable[int],
    action: str = "update",
    default_share: float = 0.0,
    newest: Optional[int] = None,
) -> RoutingState:
    """Apply `changes` after checking that every version they name exists (served or on disk).

    `newest` is the version an unpinned production serves now (default: the newest known): the
    audit records it, so a change away from "newest" can be rolled back to what served.
    Raises UnknownVersion (nothing changes). routing.json is written best-effort (not at all
    without `model_base_dir`): the store is the source of truth, and every gateway replica
    rewrites the file when it applies the change."""
    known = set(known_versions)
    for key in VERSION_FIELDS:
        version = changes.get(key)
        if version is not None and version not in known:
            raise UnknownVersion(f"version {version} is not being served and not on disk (known: {sorted(known)})")
    newest = newest if newest is not None else max(known, default=None)
    state = store.change_routing(model_name, changes, client, action, default_share, newest)
    if model_base_dir is None:
        return state
    try:
        publish(model_base_dir, state)
    except OSError as exc:
        log.warning("routing revision %d: cannot write %s: %s", state.revision, model_base_dir, exc)
    return state


def promotion(current: RoutingState, version: int, to: str, canary_share: Optional[float] = None) -> dict[str, Any]:
    """The changes of `promote VERSION --to staging|production`."""
    if to == "staging":
        changes: dict[str, Any] = {"staging": version}
        if canary_share is not None:
            changes["canary_share"] = canary_share
        return changes
    if to != "production":
        raise ValueError(f"--to must be staging or production, not {to!r}")
    changes = {"production": version}
    if current.staging == version:  # the canary graduated: nothing left to compare
        changes.update(staging=None, canary_share=0.0)
    return changes


def rollback_target(store: FeedbackStore, current: RoutingState, on_disk: set[int]) -> int:
    """The version that served production before the current one. Raises LookupError.

    An audit record's `before` holds production as set (null: the newest) and, since the audit
    records it, the version that served (`serving`): a promotion made from "newest" rolls back to
    the version that was newest then."""
    serving_now = current.production if current.production is not None else max(on_disk, default=None)
    for change in store.routing_history(current.model_name, limit=1000):
        before = change.before.get("production")
        if before is None:
            before = change.before.get(SERVED)
        if before is not None and before != serving_now and change.after.get("production") != before:
            return int(before)
    older = sorted(v for v in on_disk if serving_now is None or v < serving_now)
    if older:
        return older[-1]  # never pinned before: the version below the one serving now
    raise LookupError(f"nothing to roll back to: production serves {serving_now}, no older version on disk")
