"""FastAPI dependencies: how a route reaches the gateway's shared objects and checks the API key."""

from __future__ import annotations

import secrets
from typing import Annotated, Optional

from fastapi import Depends, Header, Request

from feedback import FeedbackStore
from serving.backends import ModelBackend
from serving.errors import ApiError
from serving.metrics import GatewayMetrics
from serving.routing import Router
from serving.service import ClassificationService
from serving.settings import ServingSettings
from serving.state import Gateway


def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def get_settings(request: Request) -> ServingSettings:
    settings: ServingSettings = request.app.state.settings
    return settings


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
SettingsDep = Annotated[ServingSettings, Depends(get_settings)]


def get_service(gateway: GatewayDep) -> ClassificationService:
    return gateway.service


def get_store(gateway: GatewayDep) -> FeedbackStore:
    return gateway.store


def get_backend(gateway: GatewayDep) -> ModelBackend:
    return gateway.backend


def get_router(gateway: GatewayDep) -> Router:
    return gateway.router


def get_metrics(request: Request) -> GatewayMetrics:
    metrics: GatewayMetrics = request.app.state.metrics
    return metrics


ServiceDep = Annotated[ClassificationService, Depends(get_service)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
BackendDep = Annotated[ModelBackend, Depends(get_backend)]
RouterDep = Annotated[Router, Depends(get_router)]
MetricsDep = Annotated[GatewayMetrics, Depends(get_metrics)]


def require_api_key(
    settings: SettingsDep,
    x_api_key: Annotated[Optional[str], Header()] = None,
    authorization: Annotated[Optional[str], Header()] = None,
) -> None:
    """Write endpoints: `X-API-Key` (or `Authorization: Bearer`) must match LEXFLOW_API_KEY when it is set."""
    if settings.api_key is None:
        return
    bearer = authorization[7:] if authorization and authorization.lower().startswith("bearer ") else None
    given = x_api_key or bearer
    expected = settings.api_key.get_secret_value()
    if given is None or not secrets.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "missing or invalid API key (X-API-Key header)")


def served_model(name: str, settings: SettingsDep) -> str:
    """The `{name}` of a TF Serving route: the model this gateway serves, else 404."""
    if name != settings.model_name:
        raise ApiError(404, f"model '{name}' not found (this gateway serves '{settings.model_name}')")
    return name


ApiKey = Depends(require_api_key)
ServedModel = Annotated[str, Depends(served_model)]
