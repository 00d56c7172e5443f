"""The one place where domain errors become HTTP responses."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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


# Neither message names a host, user or password: they go to clients, and the URL may hold a secret.
DATABASE_UNAVAILABLE = "the database is unavailable; try again shortly"
DATABASE_BUSY = "the database is busy; try again shortly"
_RETRY_AFTER_S = "5"

# asyncpg's own errors for a connection that failed or died; SQLAlchemy passes some of them through
# unwrapped (a refused connect is a bare OSError, a command timeout a bare TimeoutError).
_DRIVER_CONNECTION_ERRORS = (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError)
# SQLite's codes (and their extended forms) for "another connection holds the lock", raised once
# busy_timeout has run out.
_SQLITE_BUSY_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED")


def _is_sqlite_busy(exc: DBAPIError) -> bool:
    return str(getattr(exc.orig, "sqlite_errorname", "")).startswith(_SQLITE_BUSY_CODES)


def _is_connection_failure(exc: DBAPIError) -> bool:
    """A connection that could not be made, or died under us: the database, not the request, failed."""
    return (
        exc.connection_invalidated
        or isinstance(exc, (OperationalError, InterfaceError))
        or isinstance(exc.orig, _DRIVER_CONNECTION_ERRORS)
        or isinstance(exc.orig, OSError)
    )


def _unavailable(request: Request, exc: BaseException, detail: str) -> JSONResponse:
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    logger.error("database error on %s %s: %s", request.method, request.url.path, type(cause).__name__)
    return JSONResponse(
        {"detail": detail}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": _RETRY_AFTER_S}
    )


async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
    """503 for a database that is down, unreachable or locked; anything else stays a 500."""
    if _is_sqlite_busy(exc):
        return _unavailable(request, exc, DATABASE_BUSY)
    if _is_connection_failure(exc):
        return _unavailable(request, exc, DATABASE_UNAVAILABLE)
    # A constraint or a query we got wrong is our bug: Starlette's 500, with the traceback logged.
    raise exc


async def _connection_failed(request: Request, exc: Exception) -> JSONResponse:
    """A connect refused or timed out, or a statement past its timeout, unwrapped by SQLAlchemy."""
    return _unavailable(request, exc, DATABASE_UNAVAILABLE)


async def _pool_exhausted(request: Request, exc: PoolTimeout) -> JSONResponse:
    """Every pooled connection stayed busy for pool_timeout: too many requests at once, not a bug."""
    return _unavailable(request, exc, DATABASE_BUSY)


def install(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, _invalid_input)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _database_error)  # type: ignore[arg-type]
    app.add_exception_handler(PoolTimeout, _pool_exhausted)  # type: ignore[arg-type]
    # OSError covers ConnectionRefusedError and TimeoutError (asyncpg's connect and command
    # timeouts). No other OSError reaches a handler: the providers turn theirs into ProviderError.
    for error in (OSError, *_DRIVER_CONNECTION_ERRORS):
        app.add_exception_handler(error, _connection_failed)
