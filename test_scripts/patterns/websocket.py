"""A WebSocket: answer each currency code the client sends with its rate, until it leaves."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

logger = logging.getLogger(__name__)
router = APIRouter()

RATES = {"USD": "1.1172", "JPY": "175.68", "GBP": "0.8338"}


@router.websocket("/ws/rates")
async def rates_feed(websocket: WebSocket) -> None:
    await websocket.accept()
    answered = 0
    try:
        while True:
            code = (await websocket.receive_text()).strip().upper()
            rate = RATES.get(code)
            if rate is None:
                await websocket.send_json({"error": f"unknown currency {code!r}"})
                continue
            await websocket.send_json({"code": code, "rate": rate})
            answered += 1
    except WebSocketDisconnect as disconnect:
        logger.info("client left (code %d) after %d answers", disconnect.code, answered)


def create_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    return app
