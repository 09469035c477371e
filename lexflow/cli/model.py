"""Which model a command acts on: one rule for every command, said out loud with the store it uses.

The model is `--model-name`, else the one `--data-root` trains (named after its folder; `lexflow` for
data/demo). Commands that train (`run`, `retrain`, `drift`) take it from their config, where a config
file may name it too; commands that act on what a gateway serves (`promote`, `rollback`, `routing`,
`classify`, `lineage`) fall back to LEXFLOW_MODEL_NAME, as the gateway itself does, then to `lexflow`.

A model nothing in this workspace knows (no `artifacts/<model>/`, no `<model base dir>/<model>/`) is
refused with one `error:` line naming the models that do exist, before its default store is created,
unless a store is configured (LEXFLOW_DATABASE_URL, --database-url: e.g. a workstation that reaches
the shared database, not the model volume).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from core import workspace
from lexflow.cli.common import err_console, fail, gateway_settings

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig
    from serving.settings import ServingSettings

MODEL_ENV = "LEXFLOW_MODEL_NAME"


@dataclass(frozen=True)
class Model:
    """A command's model: its name, why that name, and the gateway's settings for it (store, base dir)."""

    name: str
    because: str
    settings: ServingSettings
    data_root: Optional[Path] = None  # the dataset that named it, when one did

    @property
    def store_url(self) -> str:
        return self.settings.database_url

    @property
    def default_store(self) -> bool:
        """The store is the model's own in this workspace (artifacts/<model>/feedback.sqlite), not one
        configured (LEXFLOW_DATABASE_URL, --database-url): the model's versions are then here too."""
        return self.store_url == workspace.database_url(None, self.name)

    def describe(self, store: bool = True) -> str:
        line = f"model {self.name} ({self.because})"
        return f"{line}; feedback store {shown_url(self.store_url)}" if store else line


def served_model(
    model_name: Optional[str],
    data_root: Optional[Path],
    model_base_dir: Optional[Path] = None,
    database_url: Optional[str] = None,
) -> Model:
    """The model of a command that acts on what a gateway serves (LEXFLOW_* as the gateway reads them)."""
    name = model_name or (workspace.model_name_for(workspace.dataset_name(data_root)) if data_root else None)
    settings = gateway_settings(model_name=name, model_base_dir=model_base_dir, database_url=database_url)
    if model_name:
        because = "--model-name"
    elif data_root:
        because = f"named after --data-root {data_root}"
    elif "model_name" in settings.model_fields_set:
        because = MODEL_ENV
    else:
        because = "the default: the demo's model; name another with --data-root or --model-name"
    return Model(settings.model_name, because, settings, data_root if (data_root and not model_name) else None)


def trained_model(config: PipelineConfig, model_name: Optional[str], database_url: Optional[str] = None) -> Model:
    """The model of a command that trains (its config's), with the gateway's settings for that model."""
    named_by_data = not model_name and config.model_name == workspace.model_name_for(config.dataset_name)
    if model_name:
        because = "--model-name"
    elif named_by_data:
        because = f"named after data root {config.data_root}"
    else:
        because = "model_name in --config"
    settings = gateway_settings(model_name=config.model_name, database_url=database_url)
    local_root = config.data_root if isinstance(config.data_root, Path) else None
    model = Model(config.model_name, because, settings, local_root if named_by_data else None)
    env = os.environ.get(MODEL_ENV)
    if env and env != model.name:
        err_console.print(
            f"[yellow]note:[/] {MODEL_ENV}={env} names another model; this command acts on {model.name} "
            f"(give --data-root or --model-name for {env})",
            soft_wrap=True,
        )
    return model


def announce(model: Model, store: bool = True) -> None:
    """One line on standard error (standard output may carry a command's data, e.g. `classify`)."""
    err_console.print(model.describe(store), soft_wrap=True, highlight=False)


def require_known(model: Model, *also_known: Optional[Path]) -> None:
    """Refuse a model nothing here knows (a typo, or a command run without LEXFLOW_MODEL_NAME), before a
    store is opened, since opening a SQLite store creates it. A dataset that names its model makes it
    known (its first run); `also_known`: other places that do (a metadata store)."""
    base_dir = model.settings.model_base_dir
    places = [base_dir / model.name, workspace.resolve(workspace.model_dir(model.name)), model.data_root, *also_known]
    if any(place is not None and place.exists() for place in places):
        return
    if not model.default_store:
        return  # a configured (shared) store, reachable without the model volume; the gateways check
    others = ", ".join(local_models(base_dir)) or "none"
    raise fail(
        f"no model '{model.name}' here ({model.because}): neither {base_dir / model.name} nor "
        f"{workspace.resolve(workspace.model_dir(model.name))} exists (models here: {others}); "
        "name one with --model-name or --data-root"
    )


def local_models(model_base_dir: Path) -> list[str]:
    """Models this workspace knows: those with state under artifacts/ or versions under the base dir."""
    artifacts = workspace.resolve(workspace.ARTIFACTS_DIR)
    names = {p.name for p in artifacts.iterdir() if p.is_dir()} if artifacts.is_dir() else set()
    names.discard(workspace.DEFAULT_SERVING_DIR.name)
    if model_base_dir.is_dir():
        names |= {p.name for p in model_base_dir.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return sorted(names)


def shown_url(url: str) -> str:
    """A store URL as it may be printed (no password)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: opening it fails with its own message
        return url
