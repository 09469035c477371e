"""FastAPI dependencies: how a route reaches the gateway's shared objects and checks the API key."""

from __future__ import annotations

import re
from typing import Annotated, Optional

from fastapi import Depends, Header, Request

from feedback import FeedbackStore
from serving.access.auth import key_matches, presented_key
from serving.backends import ModelBackend
from serving.errors import ApiError
from serving.observability.metrics import GatewayMetrics
from serving.routing.selector import VersionSelector
from serving.service import ClassificationService
from serving.settings import ServingSettings
from serving.state import Gateway
from serving.store_health import StoreHealth


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


def get_selector(gateway: GatewayDep) -> VersionSelector:
    return gateway.selector


def get_store_health(gateway: GatewayDep) -> StoreHealth:
    return gateway.store_health


def get_metrics(request: Request) -> GatewayMetrics:
    metrics: GatewayMetrics = request.app.state.metrics
    return metrics


ServiceDep = Annotated[ClassificationService, Depends(get_service)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
BackendDep = Annotated[ModelBackend, Depends(get_backend)]
SelectorDep = Annotated[VersionSelector, Depends(get_selector)]
MetricsDep = Annotated[GatewayMetrics, Depends(get_metrics)]
StoreHealthDep = Annotated[StoreHealth, Depends(get_store_health)]


def require_api_key(
    settings: SettingsDep,
    x_api_key: Annotated[Optional[str], Header()] = None,
    authorization: Annotated[Optional[str], Header()] = None,
) -> None:
    """Reads of what clients wrote (reports, the routing audit): `X-API-Key` (or `Authorization:
    Bearer`) must match LEXFLOW_API_KEY when it is set."""
    if settings.api_key is None:
        return
    if not key_matches(settings.api_key, presented_key(x_api_key, authorization)):
        raise ApiError(401, "missing or invalid API key (X-API-Key header)")


def require_write_access(
    settings: SettingsDep,
    x_api_key: Annotated[Optional[str], Header()] = None,
    authorization: Annotated[Optional[str], Header()] = None,
) -> None:
    """Writes (feedback, export, routing, the console's uploads and reviews): the API key; without
    one configured, refused unless LEXFLOW_ALLOW_UNAUTHENTICATED_WRITES says otherwise."""
    if settings.api_key is None:
        if not settings.allow_unauthenticated_writes:
            raise ApiError(
                403,
                "writes need an API key: set LEXFLOW_API_KEY on the gateway and send it as X-API-Key "
                "(or set LEXFLOW_ALLOW_UNAUTHENTICATED_WRITES=1 to let anyone write)",
            )
        return
    require_api_key(settings, x_api_key, authorization)


def allow_text_listing(settings: SettingsDep) -> None:
    """Endpoints that list stored texts: behind the API key, or refused when none is configured
    (unless LEXFLOW_ALLOW_UNAUTHENTICATED_TEXT_LISTING says otherwise). `require_api_key` runs too."""
    if settings.api_key is None and not settings.allow_unauthenticated_text_listing:
        raise ApiError(
            403,
            "listing stored texts needs an API key: set LEXFLOW_API_KEY "
            "(or LEXFLOW_ALLOW_UNAUTHENTICATED_TEXT_LISTING=true to allow it without one)",
        )


def is_authenticated(
    settings: SettingsDep,
    x_api_key: Annotated[Optional[str], Header(include_in_schema=False)] = None,
    authorization: Annotated[Optional[str], Header(include_in_schema=False)] = None,
) -> bool:
    """Whether the caller presented the configured API key (recorded with its predictions)."""
    return key_matches(settings.api_key, presented_key(x_api_key, authorization))


# What an audit record may quote of a client: the header values are the client's to choose.
_ADDRESS = re.compile(r"^[0-9A-Za-z.:%\[\]-]{1,64}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/;:()+,=-]")
MAX_AGENT_CHARS = 80


def audit_text(value: str, limit: int = MAX_AGENT_CHARS) -> str:
    """`value` as an audit trail may hold it: printable ASCII without markup or escape sequences
    (what `lexflow routing` prints goes to a terminal), others replaced by `?`, at most `limit` long."""
    cleaned = _UNSAFE.sub("?", value[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def client_description(
    request: Request,
    settings: SettingsDep,
    x_api_key: Annotated[Optional[str], Header()] = None,
    authorization: Annotated[Optional[str], Header()] = None,
    user_agent: Annotated[Optional[str], Header()] = None,
) -> str:
    """Who made a change, for the audit trail: address, whether the API key was used, user agent."""
    address = request.client.host if request.client else "unknown"
    if settings.client_ip_header:
        forwarded = request.headers.get(settings.client_ip_header)
        address = forwarded.split(",")[0].strip() if forwarded else address
    address = address if _ADDRESS.match(address) else "invalid-address"
    keyed = "API key" if key_matches(settings.api_key, presented_key(x_api_key, authorization)) else "no API key"
    return f"http {address} ({keyed}; {audit_text(user_agent or '-')})"


def served_model(name: str, settings: SettingsDep) -> str:
    """The `{name}` of a TF Serving route: the model this gateway serves, else 404."""
    if name != settings.model_name:
        raise ApiError(404, f"model '{name}' not found (this gateway serves '{settings.model_name}')")
    return name


ApiKey = Depends(require_api_key)
WriteAccess = Depends(require_write_access)
TextListing = Depends(allow_text_listing)
ClientDep = Annotated[str, Depends(client_description)]
AuthenticatedDep = Annotated[bool, Depends(is_authenticated)]
ServedModel = Annotated[str, Depends(served_model)]
