"""`run_in_threadpool`: an async route hands blocking parsing to a worker thread and awaits it."""

from __future__ import annotations

import csv
import io
import logging

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

logger = logging.getLogger(__name__)
router = APIRouter()


class ImportResult(BaseModel):
    imported: int
    codes: list[str]


def parse_prices(payload: bytes) -> dict[str, int]:
    """Parse `code,price_cents` rows; a later row for the same code wins."""
    prices = {}
    for row in csv.DictReader(io.StringIO(payload.decode("utf-8"))):
        prices[row["code"].strip().upper()] = int(row["price_cents"])
    return prices


@router.post("/prices/import")
async def import_prices(request: Request) -> ImportResult:
    """Import a CSV of prices."""
    payload = await request.body()
    prices = await run_in_threadpool(parse_prices, payload)
    if not prices:
        raise HTTPException(status_code=422, detail="the CSV has no rows")
    logger.info("imported %d prices", len(prices))
    return ImportResult(imported=len(prices), codes=sorted(prices))


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app
