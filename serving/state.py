"""What the gateway's requests share, built once at start-up and reached through `deps.py`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from feedback import FeedbackStore, is_unavailable
from serving.backends import ModelBackend, build_backend
from serving.observability.collector import GatewayCollector
from serving.observability.metrics import GatewayMetrics
from serving.routing.selector import VersionSelector
from serving.routing.sync import RoutingSync
from serving.service import ClassificationService
from serving.settings import ServingSettings
from serving.store_health import StoreHealth, describe

if TYPE_CHECKING:
    from serving.grpc_api.server import GrpcServer

log = logging.getLogger("lexflow.gateway")


@dataclass
class Gateway:
    settings: ServingSettings
    metrics: GatewayMetrics
    backend: ModelBackend
    store: FeedbackStore
    selector: VersionSelector
    service: ClassificationService
    store_health: StoreHealth
    sync: RoutingSync
    collector: GatewayCollector
    owns_backend: bool
    grpc: Optional[GrpcServer] = None

    @classmethod
    def open(
        cls,
        settings: ServingSettings,
        metrics: GatewayMetrics,
        backend: Optional[ModelBackend] = None,
        store: Optional[FeedbackStore] = None,
    ) -> Gateway:
        """Connect the backend and the store (given ones are borrowed: tests, benchmarks), start serving."""
        warn_if_open(settings)
        owns_backend = backend is None
        store = store or open_store(settings)
        backend = backend or build_backend(settings)
        health = StoreHealth()
        # The state routing had when this replica starts is in effect at once: a restart keeps a rollback pin.
        selector = VersionSelector(backend, store.routing(settings.model_name, settings.canary_share))
        service = ClassificationService(settings, backend, store, selector, metrics, health)
        sync = RoutingSync(settings, store, selector, backend, health)
        collector = GatewayCollector(store, selector, backend, health, settings.metrics_cache_seconds)
        gateway = cls(settings, metrics, backend, store, selector, service, health, sync, collector, owns_backend)
        metrics.attach(collector)
        backend.start()
        sync.publish(selector.table)
        sync.start()
        if settings.grpc_port is not None:
            from serving.grpc_api.server import start_grpc_server

            gateway.grpc = start_grpc_server(service, settings.grpc_port, settings.grpc_host)
        return gateway

    def close(self) -> None:
        if self.grpc is not None:
            self.grpc.stop()
        self.sync.stop()
        self.metrics.detach(self.collector)
        if self.owns_backend:
            self.backend.close()

    def readiness(self) -> tuple[bool, str]:
        """Ready: the store answers, a version is loaded and every version routing names is loaded."""
        if not self.store_health.up:
            return False, "feedback store unavailable"
        return self.selector.ready()


def open_store(settings: ServingSettings) -> FeedbackStore:
    """The store, retried for `store_startup_seconds` (replicas and the database start together)."""
    deadline = time.monotonic() + settings.store_startup_seconds
    while True:
        try:
            return FeedbackStore(settings.database_url, settings.store_text)
        except Exception as exc:
            if not is_unavailable(exc) or time.monotonic() >= deadline:
                raise
            log.warning("feedback store not reachable yet (%s); retrying", describe(exc))
            time.sleep(2.0)


def warn_if_open(settings: ServingSettings) -> None:
    if settings.api_key is not None:
        return
    quotas = (
        f"{settings.quota_requests_per_minute or 'unlimited'} requests and "
        f"{settings.quota_bytes_per_minute or 'unlimited'} body bytes per minute per client"
    )
    if settings.allow_unauthenticated_writes:
        log.warning(
            "LEXFLOW_API_KEY is not set and LEXFLOW_ALLOW_UNAUTHENTICATED_WRITES is on: anyone who can reach "
            "this gateway can send feedback, export it, change routing and use the review console"
        )
    else:
        log.warning(
            "LEXFLOW_API_KEY is not set: every write (feedback, export, routing, the review console) is refused; "
            "set LEXFLOW_API_KEY to a secret and send it as X-API-Key (or type it into the console)"
        )
    log.warning(
        "without an API key: quotas %s; prediction texts are %s; listing stored texts is %s",
        quotas,
        "stored" if settings.store_text else "not stored (LEXFLOW_STORE_TEXT=false)",
        "allowed (LEXFLOW_ALLOW_UNAUTHENTICATED_TEXT_LISTING)"
        if settings.allow_unauthenticated_text_listing
        else "refused",
    )


def quiet_access_log(settings: ServingSettings) -> None:
    """What `uvicorn --no-access-log` does, unless the settings ask for the log; and the gateway's
    own INFO records (loads, hot swaps, routing changes) shown when nothing configured logging."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        for name in ("lexflow", "serving", "feedback"):  # not httpx's line per request
            logging.getLogger(name).setLevel(logging.INFO)
    if not settings.access_log:
        logging.getLogger("uvicorn.access").handlers = []
        logging.getLogger("uvicorn.access").propagate = False
