"""Middleware around a route that awaits the database: a pure ASGI one and a BaseHTTPMiddleware.

Both have lines after awaiting the rest of the app, which has switched greenlets underneath them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.datastructures import MutableHeaders
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)
router = APIRouter()


class RequestIdMiddleware:
    """Give every HTTP response an `x-request-id` header, and log the request when it is done."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
        logger.info("request %s %s done: %d", request_id, scope["path"], status)


async def add_process_time(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    elapsed_ms = (time.perf_counter() - started) * 1000
    response.headers["x-process-time-ms"] = f"{elapsed_ms:.1f}"
    return response


@router.get("/ping")
async def ping(request: Request) -> dict[str, int]:
    """Check the database answers."""
    async with request.app.state.engine.connect() as connection:
        answer = await connection.scalar(text("SELECT 1"))
    return {"database": answer}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = create_async_engine(app.state.database_url)
    yield
    await app.state.engine.dispose()


def create_app(database_url: str) -> FastAPI:
    app = FastAPI(lifespan=lifespan)
    app.state.database_url = database_url
    app.include_router(router)
    app.add_middleware(BaseHTTPMiddleware, dispatch=add_process_time)
    app.add_middleware(RequestIdMiddleware)
    return app
