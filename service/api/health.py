"""GET /health: the process is up and serving (it does not call DynamoDB)."""

from __future__ import annotations

from fastapi import APIRouter

from service.api.route import ApiRoute
from service.models import Health

router = APIRouter(tags=["health"], route_class=ApiRoute)


@router.get(
    "/health",
    response_model=Health,
    summary="Liveness check",
    operation_id="readHealth",
)
async def read_health() -> dict[str, str]:
    return {"status": "ok"}
