"""What the gateway's requests share, built once at start-up and reached through `deps.py`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from feedback import FeedbackStore
from serving.backends import ModelBackend, build_backend
from serving.metrics import GatewayMetrics
from serving.routing import Router
from serving.service import ClassificationService
from serving.settings import ServingSettings

if TYPE_CHECKING:
    from serving.grpc_server import GrpcServer


@dataclass
class Gateway:
    settings: ServingSettings
    metrics: GatewayMetrics
    backend: ModelBackend
    store: FeedbackStore
    router: Router
    service: ClassificationService
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
        owns_backend = backend is None
        backend = backend or build_backend(settings)
        store = store or FeedbackStore(settings.database_url, settings.store_text)
        router = Router(backend.versions, settings.canary_share)
        service = ClassificationService(settings, backend, store, router, metrics)
        gateway = cls(settings, metrics, backend, store, router, service, owns_backend)
        backend.start()
        if settings.grpc_port is not None:
            from serving.grpc_server import start_grpc_server

            gateway.grpc = start_grpc_server(service, settings.grpc_port, settings.grpc_host)
        return gateway

    def close(self) -> None:
        if self.grpc is not None:
            self.grpc.stop()
        if self.owns_backend:
            self.backend.close()


def quiet_access_log(settings: ServingSettings) -> None:
    """What `uvicorn --no-access-log` does, unless the settings ask for the log."""
    if not settings.access_log:
        logging.getLogger("uvicorn.access").handlers = []
        logging.getLogger("uvicorn.access").propagate = False
