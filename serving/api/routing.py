"""GET/PUT /v1/routing: which versions answer (production, staging with a canary share, shadow),
shared by every replica through the store; GET /v1/routing/history: the audit trail."""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from feedback import RoutingChange, RoutingState
from serving.api.schemas import RoutingChangeOut, RoutingHistory, RoutingOut, RoutingUpdate
from serving.deps import ApiKey, BackendDep, ClientDep, SelectorDep, SettingsDep, StoreDep, WriteAccess
from serving.errors import ApiError
from serving.routing.promotion import change_routing, versions_on_disk
from serving.routing.selector import VersionSelector

router = APIRouter(tags=["routing"])


def routing_out(routing: VersionSelector) -> RoutingOut:
    """The state this replica routes by, and whether a newer one is still waiting for its versions."""
    state, desired = routing.table, routing.desired
    shown = desired if desired.revision > state.revision else state
    return RoutingOut(
        production=shown.production,
        staging=shown.staging,
        canary_share=shown.canary_share,
        shadow=shown.shadow,
        revision=shown.revision,
        updated_at=shown.updated_at.isoformat() if shown.updated_at else None,
        updated_by=shown.updated_by,
        in_effect=desired.revision <= state.revision,
        pending_versions=routing.pending(),
    )


@router.get("/v1/routing", response_model=RoutingOut)
async def get_routing(routing: SelectorDep) -> RoutingOut:
    return routing_out(routing)


@router.put("/v1/routing", response_model=RoutingOut, dependencies=[WriteAccess])
async def put_routing(
    body: RoutingUpdate,
    routing: SelectorDep,
    store: StoreDep,
    backend: BackendDep,
    settings: SettingsDep,
    client: ClientDep,
) -> RoutingOut:
    """Change routing for every replica (each applies it within `routing_refresh_seconds`, once
    the versions it names are loaded there). A version must be served or on disk (else 404); a
    body that changes nothing is a 422 (no empty revision in the audit trail)."""
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    if not changes:
        raise ApiError(422, "body: name at least one of production, staging, canary_share, shadow")

    def change() -> RoutingState:  # file system and store: off the event loop
        loaded = backend.versions()
        known = set(loaded) | versions_on_disk(settings.model_base_dir, settings.model_name)
        return change_routing(
            store,
            settings.model_base_dir,
            settings.model_name,
            changes,
            client,
            known,
            "update",
            settings.canary_share,
            newest=max(loaded, default=None),
        )

    state = await run_in_threadpool(change)
    routing.apply(state)  # here at once; the other replicas at their next refresh
    return routing_out(routing)


@router.get("/v1/routing/history", response_model=RoutingHistory, dependencies=[ApiKey])
async def routing_history(
    store: StoreDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before_id: Annotated[Optional[int], Query(ge=1, le=2**63 - 1)] = None,
) -> RoutingHistory:
    """Every routing change, newest first: before and after, when, and from which client."""
    changes = await run_in_threadpool(store.routing_history, settings.model_name, limit, before_id)
    return RoutingHistory(
        changes=[change_out(c) for c in changes],
        next_before_id=changes[-1].id if len(changes) == limit else None,
    )


def change_out(change: RoutingChange) -> RoutingChangeOut:
    return RoutingChangeOut(
        id=change.id,
        revision=change.revision,
        at=change.at.isoformat(),
        client=change.client,
        action=change.action,
        before=change.before,
        after=change.after,
    )
