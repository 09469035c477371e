"""In-process backend: loads SavedModels from the model base dir and hot-swaps new versions.

A poller thread looks for new `<base>/<model>/<version>/` directories. A new version is
loaded and must answer a warm-up request before it is published; until then (and if it
never does: partial or corrupt directory) the previous versions keep serving. Publishing is
one reference swap, so a request never sees a half-loaded model. A version directory that
disappears is dropped from the set and traffic falls back to the newest remaining one.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion

log = logging.getLogger(__name__)
WARMUP_TEXT = "This Agreement shall be governed by the laws of the State of New York."


class LoadedModel:
    def __init__(self, version: int, path: Path):
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the TF Text kernels the graph uses)

        self.version = version
        self.path = path
        self._tf = tf
        self._module = tf.saved_model.load(str(path))
        self._serve = self._module.signatures["serving_default"]
        out = self._serve(text=tf.constant([WARMUP_TEXT]))  # fail here, not on a user's request
        self.classes = [c.decode() for c in out["classes"].numpy()[0]]
        from serving.backends.batching import MicroBatcher

        self._batcher = MicroBatcher(self._predict_now, name=f"batcher-v{version}")

    def predict(self, texts: Sequence[str]) -> Prediction:
        return self._batcher.predict(texts)

    async def predict_async(self, texts: Sequence[str]) -> Prediction:
        return await self._batcher.predict_async(texts)

    def close(self) -> None:
        self._batcher.close()

    def _predict_now(self, texts: Sequence[str]) -> Prediction:
        out = self._serve(text=self._tf.constant(list(texts), dtype=self._tf.string))
        return Prediction(
            version=self.version,
            classes=self.classes,
            scores=out["scores"].numpy().tolist(),
            labels=[label.decode() for label in out["label"].numpy()],
        )


def _version_dirs(model_dir: Path) -> dict[int, Path]:
    if not model_dir.is_dir():
        return {}
    found = {}
    for path in model_dir.iterdir():
        # Only complete versions: staging dirs are hidden, and Pusher copies saved_model.pb last.
        if path.name.isdigit() and (path / "saved_model.pb").is_file():
            found[int(path.name)] = path
    return found


class InProcessBackend(ModelBackend):
    def __init__(self, model_base_dir: Path, model_name: str, poll_seconds: float = 2.0, keep_versions: int = 3):
        self.model_name = model_name
        self.model_dir = Path(model_base_dir) / model_name
        self.poll_seconds = poll_seconds
        self.keep_versions = keep_versions
        self._models: dict[int, LoadedModel] = {}
        self._failed: dict[int, float] = {}  # version -> mtime of the dir when it failed to load
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.refresh()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="model-poller", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 5)
            self._thread = None

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # the poller must survive anything a filesystem can do
                log.exception("refreshing model versions failed")

    def refresh(self) -> None:
        """Load new versions (newest first), drop vanished ones, keep the newest few."""
        on_disk = _version_dirs(self.model_dir)
        with self._lock:
            loaded = dict(self._models)
        # Refused versions take no slot: a run of broken pushes must not push the last good
        # version out of the served set (or, on a restart, leave nothing to serve).
        slots = self.keep_versions
        for version in sorted(on_disk, reverse=True):
            if slots == 0:
                break
            if version in loaded:
                slots -= 1
                continue
            mtime = on_disk[version].stat().st_mtime
            if self._failed.get(version) == mtime:
                continue
            try:
                loaded[version] = LoadedModel(version, on_disk[version])
                slots -= 1
                log.info("loaded %s version %d", self.model_name, version)
                self._failed.pop(version, None)
            except Exception as exc:
                self._failed[version] = mtime
                log.error(
                    "refusing %s version %d at %s: %s",
                    self.model_name,
                    version,
                    on_disk[version],
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )
        for version in list(loaded):
            if version not in on_disk:
                log.warning("%s version %d was removed from disk; no longer served", self.model_name, version)
                del loaded[version]
        keep = sorted(loaded, reverse=True)[: self.keep_versions]
        with self._lock:
            dropped = [m for v, m in self._models.items() if v not in keep]
            self._models = {v: loaded[v] for v in keep}
        for model in dropped:
            model.close()  # requests already queued on it are still answered (FIFO)

    # -- ModelBackend ----------------------------------------------------------------------
    def versions(self) -> list[int]:
        with self._lock:
            return sorted(self._models)

    def get(self, version: Optional[int] = None) -> LoadedModel:
        with self._lock:
            models = self._models
        if not models:
            raise BackendError(f"no loadable version of model '{self.model_name}' under {self.model_dir}")
        if version is None:
            return models[max(models)]
        if version not in models:
            raise UnknownVersion(f"model '{self.model_name}' has no version {version} (serving: {sorted(models)})")
        return models[version]

    def predict(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        return self.get(version).predict(texts)

    async def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> Prediction:
        """`predict` on an event loop: awaits the micro-batcher without holding a thread."""
        return await self.get(version).predict_async(texts)

    def classes(self, version: Optional[int] = None) -> list[str]:
        return self.get(version).classes
