"""`lexflow promote`, `lexflow rollback`, `lexflow routing`: which versions the gateways serve.

The routing state lives in the feedback store, shared by every gateway replica (each applies a
change within LEXFLOW_ROUTING_REFRESH_SECONDS, once the versions it names are loaded there); these
commands change it through the same code as `PUT /v1/routing` (serving/routing/promotion.py), with an
audit record naming this user and host, and rewrite `<model_base_dir>/<model>/routing.json`.
Settings as the gateway reads them (LEXFLOW_DATABASE_URL, LEXFLOW_MODEL_BASE_DIR,
LEXFLOW_MODEL_NAME), overridable here; the model as every command names it (lexflow/cli/model.py).
Where the model volume is not mounted (a workstation that reaches only a shared database), a
version cannot be checked; that is safe, because a gateway adopts a routing change only once it
has loaded every version the change names.
"""

from __future__ import annotations

import getpass
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from lexflow.cli import options as opt
from lexflow.cli.common import console, fail, open_feedback_store
from lexflow.cli.model import Model, announce, require_known, served_model

if TYPE_CHECKING:
    from feedback import FeedbackStore, RoutingState
    from serving.settings import ServingSettings


def promote(
    version: str = typer.Argument(..., help="The version (a directory name under <model base dir>/<model>/)."),
    to: str = typer.Option(..., "--to", help="staging (the canary) or production."),
    canary_share: Optional[float] = typer.Option(
        None, min=0.0, max=1.0, help="With --to staging: share of unpinned traffic for the canary."
    ),
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    model_base_dir: opt.ModelBaseDir = None,
    database_url: opt.DatabaseUrl = None,
) -> None:
    """Point staging or production at VERSION (for every gateway replica), like a registry alias."""
    from core.model_dir import parse_version
    from serving.routing.promotion import promotion, versions_on_disk

    if to not in ("staging", "production"):
        raise fail(f"--to: must be staging or production, not '{to}'")
    number = parse_version(version)
    if number is None:
        raise fail(f"version '{version}': a version is a whole number from 0 to 2^63-1, in digits")
    model = _model(data_root, model_name, model_base_dir, database_url)
    settings = model.settings
    model_dir = settings.model_base_dir / settings.model_name
    if model_dir.is_dir() or model.default_store:
        # The model's own store in this workspace: its versions must be here too.
        on_disk = versions_on_disk(settings.model_base_dir, settings.model_name)
        if number not in on_disk:
            raise fail(f"version {number} is not under {model_dir} (versions there: {sorted(on_disk) or 'none'})")
    else:  # e.g. promoting from a workstation that reaches the database but not the model volume
        console.print(
            f"note: {model_dir} is not reachable from here, so version {number} is not checked; "
            "each gateway applies the change only once it has loaded that version"
        )
        on_disk = {number}
    store = open_feedback_store(settings.database_url)
    current = store.routing(settings.model_name, settings.canary_share)
    changes = promotion(current, number, to, canary_share)
    _apply(store, settings, current, changes, on_disk, f"promote to {to}")


def rollback(
    to: Optional[str] = typer.Option(None, "--to", help="Version to pin production to (default: the previous one)."),
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    model_base_dir: opt.ModelBaseDir = None,
    database_url: opt.DatabaseUrl = None,
) -> None:
    """Pin production back to the version that served before the current one (from the audit trail)."""
    from core.model_dir import parse_version
    from serving.routing.promotion import rollback_target, versions_on_disk

    settings = _model(data_root, model_name, model_base_dir, database_url).settings
    on_disk = versions_on_disk(settings.model_base_dir, settings.model_name)
    store = open_feedback_store(settings.database_url)
    current = store.routing(settings.model_name, settings.canary_share)
    if to is not None:
        target = parse_version(to)
        if target is None or target not in on_disk:
            raise fail(f"--to {to}: not a version under {settings.model_base_dir / settings.model_name}")
    else:
        try:
            target = rollback_target(store, current, on_disk)
        except LookupError as exc:
            raise fail(str(exc)) from None
        if target not in on_disk:
            raise fail(f"the previous production version {target} is no longer on disk; pick one with --to")
    _apply(store, settings, current, {"production": target}, on_disk, "rollback")


def routing(
    history: int = typer.Option(10, min=0, help="How many recent changes to list."),
    data_root: opt.DataRoot = None,
    model_name: opt.ModelName = None,
    model_base_dir: opt.ModelBaseDir = None,
    database_url: opt.DatabaseUrl = None,
) -> None:
    """Show the routing state every gateway replica follows, and its recent changes."""
    settings = _model(data_root, model_name, model_base_dir, database_url).settings
    store = open_feedback_store(settings.database_url)
    state = store.routing(settings.model_name, settings.canary_share)
    _show(state)
    for change in store.routing_history(settings.model_name, limit=history) if history else []:
        moved = {k: f"{change.before.get(k)} -> {v}" for k, v in change.after.items() if change.before.get(k) != v}
        console.print(
            f"  r{change.revision} {change.at:%Y-%m-%d %H:%M:%S} {change.action:<20} {moved}  by {change.client}",
            soft_wrap=True,
        )


def _model(
    data_root: Optional[Path], model_name: Optional[str], model_base_dir: Optional[Path], database_url: Optional[str]
) -> Model:
    """The model routed (said, and refused when nothing here knows it: no routing for a model that is not)."""
    model = served_model(model_name, data_root, model_base_dir, database_url)
    announce(model)
    require_known(model)
    return model


def _apply(
    store: FeedbackStore,
    settings: ServingSettings,
    current: RoutingState,
    changes: dict[str, Any],
    known: set[int],
    action: str,
) -> None:
    from feedback import is_unavailable
    from serving.routing.promotion import change_routing

    client = f"cli {getpass.getuser()}@{socket.gethostname()}"
    # routing.json only where the model volume is: the gateways rewrite it from the store anyway.
    base_dir = settings.model_base_dir if (settings.model_base_dir / settings.model_name).is_dir() else None
    try:
        state = change_routing(
            store, base_dir, settings.model_name, changes, client, known, action, settings.canary_share
        )
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        raise fail(f"feedback store: unavailable ({type(exc).__name__}); nothing changed") from None
    for key, value in changes.items():
        console.print(f"{key}: {_shown(key, getattr(current, key))} -> {_shown(key, value)}")
    _show(state)
    console.print(
        f"every gateway replica applies revision {state.revision} within LEXFLOW_ROUTING_REFRESH_SECONDS "
        "once the versions it names are loaded there (GET /v1/routing shows in_effect)"
    )


def _shown(key: str, value: Any) -> str:
    return (
        ("newest" if key == "production" else "none")
        if value is None
        else f"{value:g}"
        if isinstance(value, float)
        else str(value)
    )


def _show(state: RoutingState) -> None:
    console.print(
        f"routing of '{state.model_name}' (revision {state.revision}): "
        + " ".join(
            f"{key}={_shown(key, getattr(state, key))}" for key in ("production", "staging", "canary_share", "shadow")
        ),
        soft_wrap=True,
    )
