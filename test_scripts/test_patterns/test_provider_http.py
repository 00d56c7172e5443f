from __future__ import annotations

from datetime import date
from decimal import Decimal

import httpx
import pytest

from test_scripts.fake_provider import ECB_HISTORY_PATH, FakeProvider, Mode
from test_scripts.patterns.provider_http import fetch_reference_rates


@pytest.fixture
def history_url(fake_provider_server: tuple[str, FakeProvider]) -> str:
    url, _ = fake_provider_server
    return f"{url}{ECB_HISTORY_PATH}"


async def test_fetch_reference_rates_parses_every_day(history_url: str, fake_provider: FakeProvider) -> None:
    days = await fetch_reference_rates(history_url)
    assert sorted(days) == [date(2026, 10, day) for day in (26, 27, 28, 29, 30)]
    assert days[date(2026, 10, 30)]["USD"] == Decimal("1.1172")
    assert fake_provider.requests == 1


async def test_fetch_reference_rates_error_status_raises(history_url: str, fake_provider: FakeProvider) -> None:
    fake_provider.mode = Mode.HTTP_500
    with pytest.raises(httpx.HTTPStatusError, match="500"):
        await fetch_reference_rates(history_url)
