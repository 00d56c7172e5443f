"""`python -m app.cli serve|migrate`: what `./test_runner.py serve` and the container run."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from app.core.config import Settings, get_settings
from app.db import migrate
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.models.fx import FxRate
from app.schemas.fx import SyncResult
from app.services import fx
from app.services.providers import EcbFileProvider

logger = logging.getLogger(__name__)
console = Console(stderr=True)


def _ensure_sqlite_dir(settings: Settings) -> None:
    if settings.database_kind == "sqlite":
        path = settings.database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


async def load_ecb_history(settings: Settings, *, show_progress: bool = True) -> SyncResult:
    """Write the bundled ECB history into the database, with a progress bar on stderr."""
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            provider = EcbFileProvider(settings.ecb_file_path)
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console, disable=not show_progress,
            ) as progress:  # fmt: skip
                task = progress.add_task(f"Loading ECB rates from {settings.ecb_file_path.name}", total=None)
                return await fx.sync(
                    session=session, provider=provider, start=None, end=None,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )  # fmt: skip
    finally:
        await engine.dispose()


async def prepare(settings: Settings, *, show_progress: bool = True) -> None:
    """Migrate the database to head; load the ECB history when it holds no rates yet."""
    _ensure_sqlite_dir(settings)
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rates = await connection.scalar(select(func.count()).select_from(FxRate))
    finally:
        await engine.dispose()
    console.print(f"Database ({settings.database_kind}) migrated to head; {rates} rates stored.")
    if rates == 0:
        result = await load_ecb_history(settings, show_progress=show_progress)
        console.print(f"Loaded {result.inserted} ECB rates ({result.skipped} skipped).")


def serve(*, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Prepare the database, then serve the API until interrupted."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(prepare(settings))
    console.print(f"Serving on http://{host}:{port} (API docs at http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="migrate, load the ECB history if empty, serve")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="migrate the database to head and load the ECB history if empty")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(host=args.host, port=args.port)
    else:
        asyncio.run(prepare(get_settings()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
