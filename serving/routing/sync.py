"""Keeps one replica in step with the shared routing state, every `routing_refresh_seconds`.

Each tick reads the state from the store (which doubles as the store's health check), hands a
newer revision to the router, and writes what follows from it: routing.json next to the
versions, and (with `tfserving_config_path`) the TF Serving model config. It also logs hot
swaps: when the version answering unpinned production traffic changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Optional

from feedback import FeedbackStore, RoutingState, is_unavailable
from serving.backends.base import ModelBackend
from serving.backends.versions import VersionDirectory
from serving.routing import tfserving_config
from serving.routing.promotion import publish
from serving.routing.selector import VersionSelector
from serving.settings import ServingSettings
from serving.store_health import StoreHealth

log = logging.getLogger("lexflow.gateway")


class RoutingSync:
    def __init__(
        self,
        settings: ServingSettings,
        store: FeedbackStore,
        selector: VersionSelector,
        backend: ModelBackend,
        health: StoreHealth,
    ):
        self.settings, self.store, self.selector, self.backend, self.health = settings, store, selector, backend, health
        self._disk = VersionDirectory(settings.model_base_dir / settings.model_name)
        self._answering: Optional[int] = None
        self._file_problems: set[str] = set()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="routing-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.routing_refresh_seconds + 10)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.routing_refresh_seconds):
            try:
                self.tick()
            except Exception:  # the sync must outlive anything a file system or a store can do
                log.exception("routing sync failed")

    def tick(self) -> None:
        settings = self.settings
        try:
            desired = self.store.routing(settings.model_name, settings.canary_share)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self.health.failed(exc)
            return
        self.health.ok()
        self.selector.apply(desired)
        self.publish(desired)
        self._log_hot_swap()

    def publish(self, desired: RoutingState) -> None:
        """routing.json and the TF Serving config for `desired`; a failure is logged once, not raised."""
        if desired.revision > 0:
            self._guarded("routing.json", lambda: publish(self.settings.model_base_dir, desired))
        path = self.settings.tfserving_config_path
        if path is not None:
            self._guarded(str(path), lambda: self._write_tfserving_config(path, desired))

    def _write_tfserving_config(self, path: Path, desired: RoutingState) -> bool:
        settings = self.settings
        versions = tfserving_config.versions_to_serve(
            desired.named() | self.selector.table.named(), self._disk.scan(), settings.tfserving_keep_versions
        )
        base_path = settings.tfserving_base_path or str(settings.model_base_dir / settings.model_name)
        text = tfserving_config.render(settings.model_name, base_path, versions, desired.revision)
        written = tfserving_config.write(path, text, desired.revision)
        if written:
            log.info(
                "TF Serving config %s now lists versions %s (routing revision %d)", path, versions, desired.revision
            )
        return written

    def _guarded(self, what: str, write: Callable[[], object]) -> None:
        try:
            write()
            self._file_problems.discard(what)
        except OSError as exc:
            if what not in self._file_problems:
                self._file_problems.add(what)
                log.warning("cannot write %s: %s", what, exc)

    def _log_hot_swap(self) -> None:
        state = self.selector.table
        versions = self.backend.versions()
        answering = state.production if state.production is not None else max(versions, default=None)
        if answering != self._answering:
            if self._answering is not None or answering is not None:
                log.info(
                    "hot swap: unpinned production traffic now goes to version %s (was %s)", answering, self._answering
                )
            self._answering = answering
