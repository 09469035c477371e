"""Which model version answers a request: pinned, production (stable), staging (canary), shadow.

The routing state lives in the store (`feedback/routing.py`), shared by every replica;
`RoutingSync` (routing/sync.py) reads it every `routing_refresh_seconds` and hands it to
`VersionSelector.apply`. A change takes effect here once every version it names is loaded (until then
the previous state keeps routing, so a promotion to a version still loading causes no errors);
the state a replica starts with is in effect at once: a restart never drops a rollback pin. The
selector always resolves a request to an explicit version ("production" without a pin means the
newest loaded version), so every backend is called for, and logs, exactly that version.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from typing import Optional

from feedback.routing import RoutingState
from serving.backends.base import BackendError, ModelBackend, UnknownVersion

log = logging.getLogger("lexflow.gateway")
LABELS = ("production", "staging")
# TF Serving's version labels, accepted as aliases so its clients work unchanged.
LABEL_ALIASES = {"stable": "production", "canary": "staging", "production": "production", "staging": "staging"}


@dataclass(frozen=True)
class Route:
    version: int
    name: str  # production / staging / pinned


class VersionSelector:
    def __init__(self, backend: ModelBackend, state: RoutingState, seed: Optional[int] = None):
        self._backend = backend
        self._state = self._desired = state  # in effect / wanted (newest revision seen)
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        backend.retain(state.named())

    @property
    def table(self) -> RoutingState:
        """The routing state in effect on this replica."""
        return self._state

    @property
    def desired(self) -> RoutingState:
        """The newest routing state this replica has seen (in effect once its versions are loaded)."""
        return self._desired

    def pending(self) -> list[int]:
        """Versions the desired state names that are not loaded here yet (empty when it is in effect)."""
        if self._desired.revision == self._state.revision:
            return []
        return sorted(self._desired.named() - set(self._backend.versions()))

    def apply(self, desired: RoutingState) -> bool:
        """Adopt a newer routing state; True when it is (now) in effect."""
        with self._lock:
            if desired.revision < self._desired.revision:
                return self._state.revision >= self._desired.revision  # an older read: ignore it
            self._desired = desired
            current = self._state
        self._backend.retain(desired.named() | current.named())
        if desired.revision == current.revision:
            return True
        missing = desired.named() - set(self._backend.versions())
        if missing:
            return False
        with self._lock:
            if self._desired.revision != desired.revision:
                return False  # a newer one arrived meanwhile: it will be applied instead
            self._state = desired
        self._backend.retain(desired.named())
        log.info(
            "routing revision %d in effect: production=%s staging=%s canary_share=%g shadow=%s (by %s)",
            desired.revision,
            desired.production if desired.production is not None else "newest",
            desired.staging,
            desired.canary_share,
            desired.shadow,
            desired.updated_by or "-",
        )
        return True

    def newest(self) -> int:
        newest = self._backend.newest()
        if newest is None:
            raise BackendError(f"no loadable version of model '{self._backend.model_name}' yet")
        return newest

    def resolve_label(self, label: str) -> int:
        name = LABEL_ALIASES.get(label)
        if name is None:
            raise UnknownVersion(f"unknown version label '{label}' (use production/stable or staging/canary)")
        state = self._state
        if name == "staging":
            if state.staging is None:
                raise UnknownVersion("no staging version is set")
            return state.staging
        return state.production if state.production is not None else self.newest()

    def choose(self, version: Optional[int] = None, label: Optional[str] = None) -> Route:
        if version is not None:
            return Route(version, "pinned")
        if label is not None:
            return Route(self.resolve_label(label), LABEL_ALIASES[label])
        state = self._state
        if state.staging is not None and state.canary_share > 0 and self._random.random() < state.canary_share:
            return Route(state.staging, "staging")
        return Route(state.production if state.production is not None else self.newest(), "production")

    def ready(self) -> tuple[bool, str]:
        """Servable: a version is loaded and every version the routing in effect names is loaded."""
        loaded = set(self._backend.versions())
        if not loaded:
            return False, "no model version loaded yet"
        missing = self._state.named() - loaded
        if missing:
            return False, f"routing names version(s) {sorted(missing)}, not loaded (loaded: {sorted(loaded)})"
        return True, ""
