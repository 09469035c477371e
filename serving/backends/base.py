"""The interface every model backend implements in full (in-process, TF Serving REST and gRPC)."""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Optional


class BackendError(RuntimeError):
    """The model server failed or is unreachable (a 5xx/503 for the client)."""


class UnknownVersion(LookupError):
    """The requested version or label does not exist (a 404 for the client)."""


@dataclass(frozen=True)
class Prediction:
    version: int
    classes: list[str]  # label names, aligned with each row of `scores`
    scores: list[list[float]]
    labels: list[str]  # top class per text


class ModelBackend(abc.ABC):
    """A source of predictions for one model name, by version.

    `predict` blocks the calling thread (gRPC handlers, scripts); `predict_async` is for the
    event loop and must not block it (a coroutine, or a future the backend settles). `versions()`
    lists what is ready to answer, ascending; `newest()` (routing, every unpinned request) and it
    answer from memory.
    """

    model_name: str

    @abc.abstractmethod
    def start(self) -> None:
        """Begin background work (e.g. polling for new versions); called once at gateway start."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop background work and release connections."""

    @abc.abstractmethod
    def versions(self) -> list[int]:
        """Versions ready to answer, ascending (from memory: no I/O)."""

    @abc.abstractmethod
    def classes(self, version: Optional[int] = None) -> list[str]:
        """Label names of `version` (None: the newest), in score order. Raises UnknownVersion/BackendError."""

    @abc.abstractmethod
    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        """Score texts with `version` (None: the newest ready version)."""

    @abc.abstractmethod
    def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Awaitable[Prediction]:
        """`predict` for a coroutine: `await backend.predict_async(texts, version)`."""

    @abc.abstractmethod
    def signature_defs(self, version: int) -> dict[str, Any]:
        """Every signature of `version`'s SavedModel, as TF Serving's REST metadata writes the
        SignatureDefMap (`{"signature_def": {name: {"inputs": ..., "outputs": ..., "method_name": ...}}}`)."""

    @abc.abstractmethod
    def retain(self, versions: set[int]) -> None:
        """Versions that routing names: keep them loaded while they are on disk (load them if they
        are not). Backends whose model server decides what is loaded (TF Serving) ignore it."""

    def newest(self) -> Optional[int]:
        """The newest version ready to answer (None: none is)."""
        return max(self.versions(), default=None)

    def ready(self) -> bool:
        return bool(self.versions())
