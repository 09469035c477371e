"""Which model version answers a request: pinned, production (stable), staging (canary), shadow."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Optional

from serving.backends.base import UnknownVersion

LABELS = ("production", "staging")
# TF Serving's version labels, accepted as aliases so its clients work unchanged.
LABEL_ALIASES = {"stable": "production", "canary": "staging", "production": "production", "staging": "staging"}


@dataclass(frozen=True)
class RoutingTable:
    production: Optional[int] = None  # None: always the newest version
    staging: Optional[int] = None
    canary_share: float = 0.0  # share of unpinned requests sent to staging
    shadow: Optional[int] = None  # also scored, logged, never returned


@dataclass(frozen=True)
class Route:
    version: Optional[int]
    name: str  # production / staging / pinned


class Router:
    def __init__(self, versions: Callable[[], list[int]], canary_share: float = 0.0, seed: Optional[int] = None):
        self._versions = versions
        self._table = RoutingTable(canary_share=canary_share)
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    @property
    def table(self) -> RoutingTable:
        return self._table

    def update(self, **changes: Any) -> RoutingTable:
        available = set(self._versions())
        for key in ("production", "staging", "shadow"):
            version = changes.get(key)
            if version is not None and version not in available:
                raise UnknownVersion(f"version {version} is not being served (serving: {sorted(available)})")
        with self._lock:
            self._table = replace(self._table, **changes)
            return self._table

    def resolve_label(self, label: str) -> Optional[int]:
        name = LABEL_ALIASES.get(label)
        if name is None:
            raise UnknownVersion(f"unknown version label '{label}' (use production/stable or staging/canary)")
        version = getattr(self._table, name)
        if name == "staging" and version is None:
            raise UnknownVersion("no staging version is set")
        return version

    def choose(self, version: Optional[int] = None, label: Optional[str] = None) -> Route:
        if version is not None:
            return Route(version, "pinned")
        if label is not None:
            return Route(self.resolve_label(label), LABEL_ALIASES[label])
        table = self._table
        if table.staging is not None and table.canary_share > 0 and self._random.random() < table.canary_share:
            return Route(table.staging, "staging")
        return Route(table.production, "production")
