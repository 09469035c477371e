"""The workspace: one rule for every relative path, and the defaults all settings share.

The rule: a relative path in any lexflow setting (the pipeline config and its command-line
options, the gateway's LEXFLOW_* settings, the notebooks' settings) means `<workspace>/<path>`,
where the workspace is `$LEXFLOW_HOME` when it is set and the current working directory
otherwise. The README's commands run from the repository root, which is then the workspace; a
notebook (whose working directory is `notebooks/`) sets LEXFLOW_HOME to the repository root.

Curated schemas are code, not workspace: they live in the project's `schema/` folder
(`PROJECT_ROOT`), wherever the command runs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Union

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

HOME_ENV = "LEXFLOW_HOME"
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_MODEL_NAME = "lexflow"  # the embedded demo's model; another dataset's model is named after it
ARTIFACTS_DIR = Path("artifacts")
DEFAULT_DATA_ROOT = Path("data") / "demo"
DEFAULT_SERVING_DIR = ARTIFACTS_DIR / "serving"  # TF Serving's base: <dir>/<model_name>/<version>/
_SQLITE = "sqlite:///"
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_\-]+")


def model_dir(model_name: str) -> Path:
    """Where one model's runs keep their state: each model (and so each dataset) is isolated."""
    return ARTIFACTS_DIR / model_name


def pipeline_root(model_name: str) -> Path:
    return model_dir(model_name) / "pipeline"


def metadata_path(model_name: str) -> Path:
    return model_dir(model_name) / "metadata.sqlite"


def feedback_db(model_name: str) -> Path:
    return model_dir(model_name) / "feedback.sqlite"


def reports_dir(model_name: str) -> Path:
    """Drift reports `lexflow drift` writes and the gateway serves."""
    return model_dir(model_name) / "reports"


def as_name(text: str) -> str:
    """A dataset folder's name as a model/pipeline name ([A-Za-z0-9_-]+)."""
    return _NOT_A_NAME.sub("_", text).strip("_") or DEFAULT_MODEL_NAME


def dataset_name(data_root: str | Path) -> str:
    """A data root's dataset name: its last folder (of a bucket URI too). It names the curated schema."""
    return str(data_root).rstrip("/").rsplit("/", 1)[-1]


def model_name_for(dataset: str) -> str:
    """The model a dataset trains unless told otherwise: `lexflow` for the demo, else the dataset's name."""
    return DEFAULT_MODEL_NAME if dataset == DEFAULT_DATA_ROOT.name else as_name(dataset)


def home() -> Path:
    """The workspace directory (read at call time, so tests and notebooks may set LEXFLOW_HOME)."""
    return Path(os.environ.get(HOME_ENV) or os.getcwd()).expanduser().absolute()


def resolve(path: str | Path) -> Path:
    """The rule: `~` expanded, relative paths joined to the workspace."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else home() / path


def database_url(url: str | None = None, model_name: str = DEFAULT_MODEL_NAME) -> str:
    """A SQLAlchemy URL with the rule applied to a relative SQLite file (default: the model's
    feedback store in the workspace). Other URLs (postgresql+psycopg://...) pass through."""
    if url is None:
        return _SQLITE + str(resolve(feedback_db(model_name)))
    if url.startswith(_SQLITE) and not url.startswith(_SQLITE + "/") and url != _SQLITE + ":memory:":
        return _SQLITE + str(resolve(url[len(_SQLITE) :]))
    return url


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")


def is_uri(value: Any) -> bool:
    """gs://, s3://, minio://, ...: a location in object storage, not a local path."""
    return isinstance(value, str) and bool(_SCHEME.match(value))


class Uri(str):
    """An object-storage location, kept verbatim (Path would collapse "gs://b" to "gs:/b").

    Supports the two Path operations the pipeline uses on locations: `/` and `.name`.
    """

    def __truediv__(self, other: object) -> Uri:
        return Uri(f"{self.rstrip('/')}/{other}")

    @property
    def name(self) -> str:
        return self.rstrip("/").rsplit("/", 1)[-1]

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


# A local path (made absolute) or, for what a remote orchestrator's pods read and write, a URI.
Location = Union[Uri, Path]


def resolve_location(value: str | Path) -> Location:
    """The rule for places a remote orchestrator may hold: bucket URIs verbatim, paths resolved."""
    return Uri(value) if is_uri(value) else resolve(value)
