"""The application factory and its lifespan. Nothing here connects to anything at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

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
    settings: Settings = app.state.settings
    engine = create_engine(settings.database_url, echo=settings.database_echo)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    logger.info("started with a %s database", settings.database_kind)
    try:
        yield
    finally:
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
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    errors.install(app)
    api = APIRouter(prefix="/api/v1")
    for module in (fx, assets, portfolio):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
