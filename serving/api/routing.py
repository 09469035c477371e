"""GET/PUT /v1/routing: which versions answer (production, staging with a canary share, shadow)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from serving.api.schemas import RoutingOut, RoutingUpdate
from serving.deps import ApiKey, RouterDep

router = APIRouter(tags=["routing"])


@router.get("/v1/routing", response_model=RoutingOut)
async def get_routing(routing: RouterDep) -> RoutingOut:
    return RoutingOut(**asdict(routing.table))


@router.put("/v1/routing", response_model=RoutingOut, dependencies=[ApiKey])
async def put_routing(body: RoutingUpdate, routing: RouterDep) -> RoutingOut:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    return RoutingOut(**asdict(routing.update(**changes)))
