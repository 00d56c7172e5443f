"""The application factory and its lifespan. Nothing here connects to anything at import time."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import __version__
from app.api import errors, health
from app.api.v1 import assets, fx, portfolio
from app.core.config import Settings, get_settings
from app.db.engine import create_engine, create_sessionmaker

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Own the engine: created on the server's event loop, disposed when the server stops.

    The threaded test server runs the app on its own loop in another thread; an engine made at
    import time would hand out connections bound to the wrong loop.
    """
    if getattr(app.state, "engine", None) is not None:
        # A second server on the same app object would replace the engine the first one's
        # requests use; the first engine's connections would then be dropped unclosed.
        raise RuntimeError("this app is already running (its lifespan has started and not ended); create another app")
    settings: Settings = app.state.settings
    engine = create_engine(
        settings.database_url,
        echo=settings.database_echo,
        connect_timeout_s=settings.database_connect_timeout_s,
        command_timeout_s=settings.database_command_timeout_s,
        busy_timeout_s=settings.database_busy_timeout_s,
    )
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    logger.info("started with a %s database", settings.database_kind)
    try:
        yield
    finally:
        app.state.engine = app.state.sessionmaker = None
        await engine.dispose()
        logger.info("engine disposed")


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new application; `settings` defaults to the environment's (see `.env.example`)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="FX rates and assets",
        version=__version__,
        description="A reference async FastAPI + SQLAlchemy service, measured for honest test coverage.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    # httpx logs the full URL of every request at INFO, and a provider's URL (ECB_HTTP_URL) may
    # carry a user, a password or a key: only httpx's warnings reach our logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    errors.install(app)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    api = APIRouter(prefix="/api/v1")
    for module in (fx, assets, portfolio):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API serves at `path`, from the OpenAPI schema (HEAD wherever GET is)."""
    routes: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allowed_methods", None)
    if routes is None:
        routes = []
        for template, operations in app.openapi()["paths"].items():
            regex = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))
            methods = [method.upper() for method in operations]
            routes.append((regex, methods + ["HEAD"] if "GET" in methods else methods))
        app.state.allowed_methods = routes
    return sorted({method for regex, methods in routes if regex.fullmatch(path) for method in methods})


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's own answer, except that a 405 lists every method of the resource in `Allow`.

    Starlette answers with the methods of the first route whose path matched, so
    `DELETE /api/v1/assets` said `Allow: GET` although POST is served there too (RFC 9110 wants
    all of them).
    """
    if exc.status_code == 405:
        allowed = _allowed_methods(request.app, request.url.path)
        if allowed:
            exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
    return await http_exception_handler(request, exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own 422, but never a 500 for an input that UTF-8 cannot encode.

    A JSON body may spell a lone surrogate (`"\\ud800"`); the 422 echoes the input, and encoding
    that echo as UTF-8 raised UnicodeEncodeError. JSON's \\u escapes can carry it.
    """
    try:
        return await request_validation_exception_handler(request, exc)
    except UnicodeEncodeError:
        body = json.dumps({"detail": jsonable_encoder(exc.errors())}, ensure_ascii=True)
        return Response(body, status_code=422, media_type="application/json")
