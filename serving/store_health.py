"""Whether the feedback store answers, as this replica last saw it (readiness, lexflow_store_up).

The routing sync reads the store every `routing_refresh_seconds` and reports here; a request
that finds the store unreachable reports at once. Transitions are logged once, without the
statement or its parameters (which may hold texts) and without the URL (which may hold a password).
"""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("lexflow.gateway")


def describe(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    first = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {first}"[:300]


class StoreHealth:
    def __init__(self) -> None:
        self._up = True
        self._error = ""
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        return self._up

    @property
    def error(self) -> str:
        return self._error

    def ok(self) -> None:
        with self._lock:
            was_up, self._up, self._error = self._up, True, ""
        if not was_up:
            log.info("feedback store reachable again")

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            was_up, self._up, self._error = self._up, False, describe(exc)
        if was_up:
            log.warning("feedback store unreachable: %s", self._error)
