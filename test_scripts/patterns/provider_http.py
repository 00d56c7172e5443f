"""An httpx call to a rates provider: fetch the ECB's XML reference rates and parse them."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import httpx

logger = logging.getLogger(__name__)

_CUBE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}Cube"


async def fetch_reference_rates(url: str, *, timeout: float = 5.0) -> dict[date, dict[str, Decimal]]:
    """Rates per business day, "1 EUR = rate CURRENCY"; raises httpx.HTTPStatusError on an error status."""
    async with httpx.AsyncClient(timeout=timeout) as client:
        response = await client.get(url)
    response.raise_for_status()
    days = {}
    for cube in ET.fromstring(response.content).iter(_CUBE):
        if "time" in cube.attrib:
            days[date.fromisoformat(cube.attrib["time"])] = {
                rate.attrib["currency"]: Decimal(rate.attrib["rate"]) for rate in cube
            }
    logger.info("fetched %d days of rates from %s", len(days), url)
    return days
