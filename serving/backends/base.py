"""The interface every model backend implements."""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Optional, Sequence


class BackendError(RuntimeError):
    """The model server failed or is unreachable (a 5xx/503 for the client)."""


class UnknownVersion(LookupError):
    """The requested version or label does not exist (a 404 for the client)."""


@dataclass(frozen=True)
class Prediction:
    version: int
    classes: list[str]          # label names, aligned with each row of `scores`
    scores: list[list[float]]
    labels: list[str]           # top class per text


class ModelBackend(abc.ABC):
    model_name: str

    @abc.abstractmethod
    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        """Score texts with `version` (None: the newest ready version)."""

    @abc.abstractmethod
    def versions(self) -> list[int]:
        """Versions ready to answer, ascending."""

    def ready(self) -> bool:
        return bool(self.versions())

    def close(self) -> None:  # pragma: no cover - optional
        pass
