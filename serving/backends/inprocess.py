"""In-process backend: loads SavedModels from the model base dir and hot-swaps new versions.

A poller thread looks for new `<base>/<model>/<version>/` directories (serving/backends/versions.py says
which names are versions). A new version is
loaded and must answer a warm-up request before it is published; until then (and if it
never does: partial or corrupt directory) the previous versions keep serving. Publishing is
one reference swap, so a request never sees a half-loaded model. A version directory that
disappears is dropped from the set and traffic falls back to the newest remaining one.
The newest `keep_versions` are kept loaded, and so is every version routing names (`retain`),
however old: a pinned production version is never unloaded while it is on disk.
"""

from __future__ import annotations

import core.tf_env  # noqa: F401

import asyncio
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from serving.backends.base import BackendError, ModelBackend, Prediction, UnknownVersion
from serving.backends.signature_call import direct_call
from serving.backends.versions import VersionDirectory

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
        probe = tf.constant([WARMUP_TEXT, WARMUP_TEXT.upper()])
        out = self._serve(text=probe)  # fail here, not on a user's request
        self.classes = [c.decode() for c in out["classes"].numpy()[0]]
        self._call = direct_call(self._serve, probe, out) or (lambda text: self._serve(text=text))
        from serving.backends.batching import MicroBatcher

        self._batcher = MicroBatcher(self._predict_now, name=f"batcher-v{version}")
        self._signatures: Optional[dict[str, Any]] = None

    def predict(self, texts: Sequence[str]) -> Prediction:
        return self._batcher.predict(texts)

    def predict_async(self, texts: Sequence[str]) -> asyncio.Future[Prediction]:
        return self._batcher.predict_async(texts)

    def close(self) -> None:
        self._batcher.close()

    def signature_defs(self) -> dict[str, Any]:
        """Every signature of the SavedModel, as TF Serving reports them (read from saved_model.pb)."""
        if self._signatures is None:
            from serving.backends.signatures import saved_model_signatures

            self._signatures = saved_model_signatures(self.path)
        return self._signatures

    def _predict_now(self, texts: Sequence[str]) -> Prediction:
        out = self._call(self._tf.constant(list(texts), dtype=self._tf.string))
        return Prediction(
            version=self.version,
            classes=self.classes,
            scores=out["scores"].numpy().tolist(),
            labels=[label.decode() for label in out["label"].numpy()],
        )


class InProcessBackend(ModelBackend):
    def __init__(self, model_base_dir: Path, model_name: str, poll_seconds: float = 2.0, keep_versions: int = 3):
        self.model_name = model_name
        self.model_dir = Path(model_base_dir) / model_name
        self.poll_seconds = poll_seconds
        self.keep_versions = keep_versions
        self._dirs = VersionDirectory(self.model_dir)
        # Replaced whole under _lock, never changed in place: requests read them without the lock.
        self._models: dict[int, LoadedModel] = {}
        self._versions: tuple[int, ...] = ()
        self._failed: dict[int, float] = {}  # version -> mtime of the dir when it failed to load
        self._retained: set[int] = set()  # versions routing names: never unloaded while on disk
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()  # the poller and a retain() wake-up never load at once
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.refresh()

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll, name="model-poller", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 5)
            self._thread = None

    def _poll(self) -> None:
        while True:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.refresh()
            except Exception:  # the poller must survive anything a filesystem can do
                log.exception("refreshing model versions failed")

    def retain(self, versions: set[int]) -> None:
        with self._lock:
            changed, self._retained = versions != self._retained, set(versions)
            missing = versions - set(self._models)
        if changed and missing:
            self._wake.set()  # load a newly routed version now, not at the next poll

    def refresh(self) -> None:
        """Load new versions (newest first) and routed ones, drop vanished ones, keep the newest few
        plus every version routing names."""
        with self._refreshing:
            on_disk = self._dirs.scan()
            with self._lock:
                loaded, retained = dict(self._models), set(self._retained)
            self._load_missing(on_disk, loaded, retained)
            for version in list(loaded):
                if version not in on_disk:
                    log.warning("%s version %d was removed from disk; no longer served", self.model_name, version)
                    del loaded[version]
            keep = set(sorted(loaded, reverse=True)[: self.keep_versions]) | (retained & set(loaded))
            with self._lock:
                before = max(self._models, default=None)
                dropped = [m for v, m in self._models.items() if v not in keep]
                # Every version listed is always in _models, for a reader that takes no lock.
                self._versions = tuple(v for v in self._versions if v in keep)
                self._models = {v: loaded[v] for v in sorted(keep)}
                self._versions = tuple(sorted(keep))
                after = max(self._models, default=None)
            for model in dropped:
                log.info(
                    "unloaded %s version %d (not among the newest %d, not routed)",
                    self.model_name,
                    model.version,
                    self.keep_versions,
                )
                model.close()  # requests already queued on it are still answered (FIFO)
            if after != before:
                log.info("%s version %s is now the newest loaded version (was %s)", self.model_name, after, before)

    def _load_missing(self, on_disk: dict[int, Path], loaded: dict[int, LoadedModel], retained: set[int]) -> None:
        # Refused versions take no slot: a run of broken pushes must not push the last good
        # version out of the served set (or, on a restart, leave nothing to serve).
        slots = self.keep_versions
        for version in sorted(on_disk, reverse=True):
            newest = slots > 0
            if version in loaded:
                slots -= newest
                continue
            if not newest and version not in retained:
                continue
            mtime = on_disk[version].stat().st_mtime
            if self._failed.get(version) == mtime:
                continue
            try:
                loaded[version] = LoadedModel(version, on_disk[version])
            except Exception as exc:
                self._failed[version] = mtime
                first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.error("refusing %s version %d at %s: %s", self.model_name, version, on_disk[version], first_line)
                continue
            slots -= newest
            log.info("loaded %s version %d", self.model_name, version)
            self._failed.pop(version, None)

    # -- ModelBackend ----------------------------------------------------------------------
    def versions(self) -> list[int]:
        return list(self._versions)

    def newest(self) -> Optional[int]:
        versions = self._versions
        return versions[-1] if versions else None

    def get(self, version: Optional[int] = None) -> LoadedModel:
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

    def predict_async(self, texts: Sequence[str], version: Optional[int] = None) -> asyncio.Future[Prediction]:
        """`predict` on an event loop: the micro-batcher's future, awaited without holding a thread."""
        return self.get(version).predict_async(texts)

    def classes(self, version: Optional[int] = None) -> list[str]:
        return self.get(version).classes

    def signature_defs(self, version: int) -> dict[str, Any]:
        return self.get(version).signature_defs()
