from __future__ import annotations

from test_scripts.patterns.threadpool import create_app
from test_scripts.test_patterns.conftest import Serve


async def test_import_prices_parses_in_the_threadpool(serve: Serve) -> None:
    payload = b"code,price_cents\nusd,111\ngbp,83\nUSD,112\n"
    async with serve(create_app()) as client:
        response = await client.post("/prices/import", content=payload)
    assert response.status_code == 200
    assert response.json() == {"imported": 2, "codes": ["GBP", "USD"]}


async def test_import_prices_empty_csv_is_422(serve: Serve) -> None:
    async with serve(create_app()) as client:
        response = await client.post("/prices/import", content=b"code,price_cents\n")
    assert response.status_code == 422
    assert response.json() == {"detail": "the CSV has no rows"}
