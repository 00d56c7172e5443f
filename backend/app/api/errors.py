"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from app.services.errors import DomainError, InvalidInput, NotFound, ProviderFailed

logger = logging.getLogger(__name__)


async def _invalid_input(request: Request, exc: InvalidInput) -> JSONResponse:
    # The same shape as FastAPI's own validation errors, so a client handles every 422 one way.
    error = {"type": exc.error_type, "loc": [exc.location, exc.field], "msg": str(exc), "input": exc.value}
    return JSONResponse({"detail": [error]}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
    if isinstance(exc, NotFound):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, ProviderFailed):
        code = status.HTTP_502_BAD_GATEWAY
    else:
        code = status.HTTP_400_BAD_REQUEST
    return JSONResponse({"detail": str(exc)}, status_code=code)


async def _database_unavailable(request: Request, exc: DBAPIError) -> JSONResponse:
    # Only connection trouble reaches here as a 503; the message names no host, user or password.
    logger.error("database error on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, _invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_unavailable)  # type: ignore[arg-type]
