"""The versions a TF Serving reports as AVAILABLE, kept in memory and refreshed in the background.

Routing asks for them on every request, on the event loop: it must never wait for TF Serving.
Until `start()` (scripts, tests) a stale list is refreshed on the caller's thread instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Optional

from serving.backends.base import BackendError

log = logging.getLogger("lexflow.gateway")


class VersionPoller:
    def __init__(self, fetch: Callable[[], list[int]], every_seconds: float = 1.0, name: str = "tfserving-status"):
        self._fetch = fetch
        self._every = every_seconds
        self._name = name
        self._versions: list[int] = []
        self._fetched_at = float("-inf")
        self._error: Optional[str] = None
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def resolve(self, version: Optional[int], model_name: str) -> int:
        """`version` if given, else the newest version TF Serving has available (BackendError: none)."""
        if version is not None:
            return version
        available = self.versions()
        if not available:
            raise BackendError(f"TF Serving has no available version of model '{model_name}'")
        return max(available)

    def versions(self) -> list[int]:
        if self._thread is None and time.monotonic() - self._fetched_at > self._every:
            self.refresh()
        return self._versions

    def refresh(self) -> None:
        try:
            versions, error = sorted(self._fetch()), None
        except Exception as exc:  # unreachable or answering errors: nothing is servable
            versions, error = [], f"{type(exc).__name__}: {exc}"
        if error != self._error:
            if error:
                log.warning("model server status unavailable: %s", error)
            elif self._error:
                log.info("model server status available again: versions %s", versions)
        if versions != self._versions and versions:
            log.info("model server has versions %s available (was %s)", versions, self._versions)
        self._versions, self._error, self._fetched_at = versions, error, time.monotonic()

    def start(self) -> None:
        if self._thread is None:
            self.refresh()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._every + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.refresh()
