"""Liveness and readiness in one: is the database reachable?"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import __version__

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    reachable: bool
    kind: Literal["sqlite", "postgresql"]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: DatabaseHealth
    version: str


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request, response: Response) -> Health:
    """`ok` when the database answers a query; 503 `unavailable` when it does not."""
    settings = request.app.state.settings
    try:
        async with request.app.state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        reachable = True
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        reachable = False
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        status="ok" if reachable else "unavailable",
        database=DatabaseHealth(reachable=reachable, kind=settings.database_kind),
        version=__version__,
    )
