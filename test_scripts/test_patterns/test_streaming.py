from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns.streaming import Base, Currency, create_app
from test_scripts.test_patterns.conftest import Serve


async def test_export_currencies_streams_every_row_and_a_trailer(
    engine: AsyncEngine, sqlite_url: str, serve: Serve
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add_all([Currency(code="USD", name="US dollar"), Currency(code="CHF", name="Swiss franc")])
        await session.commit()
    async with serve(create_app(sqlite_url)) as client:
        response = await client.get("/currencies.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text == "code,name\nCHF,Swiss franc\nUSD,US dollar\n# 2 currencies\n"
