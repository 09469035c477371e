"""The one code path every protocol (gateway JSON, TF Serving REST, gRPC) classifies through:
validate, route, score, shadow-score, log durably, count."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

from feedback import FeedbackStore, StoreUnavailable, is_unavailable
from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion
from serving.observability.metrics import GatewayMetrics
from serving.routing.selector import Route, VersionSelector
from serving.settings import ServingSettings
from serving.store_health import StoreHealth

log = logging.getLogger("lexflow.gateway")


class InvalidInput(ValueError):
    """Client error; `status` is the HTTP status to answer with (gRPC maps it to INVALID_ARGUMENT)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Classified:
    prediction: Prediction
    route: Route
    scores: list[dict[str, float]]
    ids: list[str]


@dataclass(frozen=True)
class Scored:
    """Scores not logged yet (`ClassificationService.score_async`)."""

    prediction: Prediction
    route: Route
    scores: list[dict[str, float]]
    shadow_version: Optional[int]
    shadow_labels: Optional[list[str]]

    def with_ids(self, ids: list[str]) -> Classified:
        return Classified(self.prediction, self.route, self.scores, ids)


def _scored(
    prediction: Prediction, route: Route, shadow_version: Optional[int], shadow_labels: Optional[list[str]]
) -> Scored:
    scores = [dict(zip(prediction.classes, row, strict=True)) for row in prediction.scores]
    return Scored(prediction, route, scores, shadow_version, shadow_labels)


class ClassificationService:
    def __init__(
        self,
        settings: ServingSettings,
        backend: ModelBackend,
        store: FeedbackStore,
        selector: VersionSelector,
        metrics: GatewayMetrics,
        store_health: StoreHealth | None = None,
    ):
        self.settings, self.backend, self.store, self.metrics = settings, backend, store, metrics
        self.selector = selector
        self.store_health = store_health or StoreHealth()

    def check_texts(self, texts: Sequence[Any]) -> list[str]:
        limits = self.settings
        if not texts:
            raise InvalidInput("no texts given")
        if len(texts) > limits.max_batch:
            raise InvalidInput(f"batch of {len(texts)} texts exceeds the limit of {limits.max_batch}", 413)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidInput(f"texts[{i}]: must be a string, got {type(text).__name__}")
            if not text.strip():
                raise InvalidInput(f"texts[{i}]: empty text")
            if len(text) > limits.max_text_chars:
                raise InvalidInput(
                    f"texts[{i}]: {len(text)} characters exceeds the limit of {limits.max_text_chars}", 413
                )
            if "\x00" in text:
                raise InvalidInput(f"texts[{i}]: contains a NUL character")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput(f"texts[{i}]: not valid Unicode (unpaired surrogate)") from None
        return list(texts)

    def classify(self, texts: Sequence[Any], version: Optional[int] = None, label: Optional[str] = None) -> Classified:
        """Raises InvalidInput, UnknownVersion (404), BackendError or StoreUnavailable (503). Blocks the thread."""
        texts = self.check_texts(texts)
        route = self.selector.choose(version, label)
        try:
            prediction = self.backend.predict(texts, route.version)
        except (BackendError, UnknownVersion) as exc:
            raise self._failed(route, exc) from None
        shadow_version, shadow_labels = self._shadow_version(prediction), None
        if shadow_version is not None:
            try:  # a failing candidate must never affect the answer
                shadow_labels = self.backend.predict(texts, shadow_version).labels
            except Exception:
                log.warning("shadow scoring with version %s failed", shadow_version, exc_info=True)
                shadow_version = None
        scored = _scored(prediction, route, shadow_version, shadow_labels)
        # Committed before the caller answers: a prediction id a client holds is always stored.
        with self._logging():
            ids = self.store.log_predictions(**self._log_arguments(texts, scored))
        return self.counted(scored.with_ids(ids))

    async def classify_async(
        self,
        texts: Sequence[Any],
        version: Optional[int] = None,
        label: Optional[str] = None,
        authenticated: bool = False,
    ) -> Classified:
        """`classify` for the event loop: no thread is held while the in-process micro-batcher scores
        and the group commit writes (the TF Serving backends wait for their server in a worker thread).
        `authenticated`: the caller presented the API key (recorded; the review queue may keep to those)."""
        scored = await self.score_async(texts, version, label)
        # Committed (fsync'd) before the caller answers: a prediction id a client holds is always stored.
        with self._logging():
            ids = await self.store.log_predictions_async(
                **self._log_arguments(list(texts), scored), authenticated=authenticated
            )
        return self.counted(scored.with_ids(ids))

    async def score_async(
        self, texts: Sequence[Any], version: Optional[int] = None, label: Optional[str] = None
    ) -> Scored:
        """Validate, route and score (shadow included), logging nothing: for callers that store the
        predictions themselves, all at once (a reviewed document), and count them with `counted`."""
        texts = self.check_texts(texts)
        route = self.selector.choose(version, label)
        try:
            prediction = await self.backend.predict_async(texts, route.version)
        except (BackendError, UnknownVersion) as exc:
            raise self._failed(route, exc) from None
        shadow_version, shadow_labels = self._shadow_version(prediction), None
        if shadow_version is not None:
            try:  # a failing candidate must never affect the answer
                shadow_labels = (await self.backend.predict_async(texts, shadow_version)).labels
            except Exception:
                log.warning("shadow scoring with version %s failed", shadow_version, exc_info=True)
                shadow_version = None
        return _scored(prediction, route, shadow_version, shadow_labels)

    def _log_arguments(self, texts: list[str], scored: Scored) -> dict[str, Any]:
        """`FeedbackStore.log_predictions[_async]`'s arguments for scored texts (the same for both)."""
        prediction = scored.prediction
        return {
            "model_name": self.settings.model_name,
            "version": prediction.version,
            "route": scored.route.name,
            "texts": texts,
            "labels": prediction.labels,
            "scores": scored.scores,
            "shadow_version": scored.shadow_version,
            "shadow_labels": scored.shadow_labels,
        }

    @contextmanager
    def _logging(self) -> Iterator[None]:
        """An unreachable store while logging: StoreUnavailable (503), and the store marked down."""
        try:
            yield
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            raise self.store_unavailable(exc) from None

    def _failed(self, route: Route, exc: Exception) -> Exception:
        """A version the client named is its problem (404); one routing chose is ours (503)."""
        if not (isinstance(exc, UnknownVersion) and route.name == "pinned"):
            self.metrics.errors.labels(str(route.version)).inc()
        if isinstance(exc, UnknownVersion) and route.name == "pinned":
            return exc
        if isinstance(exc, UnknownVersion):
            return BackendError(f"{route.name} version {route.version} is not being served right now: {exc}")
        return exc

    def store_unavailable(self, exc: Exception) -> StoreUnavailable:
        self.store_health.failed(exc)
        return StoreUnavailable("feedback store unavailable; nothing was logged, retry later")

    def _shadow_version(self, prediction: Prediction) -> Optional[int]:
        shadow = self.selector.table.shadow
        return shadow if shadow is not None and shadow != prediction.version else None

    def counted(self, result: Classified) -> Classified:
        """Count stored predictions in the metrics (after they are committed)."""
        version, metrics = str(result.prediction.version), self.metrics
        for predicted in result.prediction.labels:
            metrics.child(metrics.predictions, version, predicted).inc()
        return result

    def known_labels(self) -> set[str]:
        """The newest version's labels; BackendError (503) while no version is loaded."""
        try:
            return set(self.backend.classes())
        except UnknownVersion as exc:
            raise BackendError(str(exc)) from None
