"""Tests for the fake ECB provider (test_scripts/fake_provider.py) and its recorded sample."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest

from test_scripts.fake_provider import (
    ECB_HISTORY_PATH,
    GARBAGE_BODY,
    SAMPLE_XML,
    WRONG_XML_BODY,
    FakeProvider,
    Mode,
    create_fake_provider,
)
from test_scripts.test_server_helper import running_server

ECB_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


def test_sample_xml_holds_five_business_days_newest_first() -> None:
    envelope = ET.fromstring(SAMPLE_XML)
    days = envelope.findall(f"{ECB_NAMESPACE}Cube/{ECB_NAMESPACE}Cube")

    assert [day.get("time") for day in days] == ["2026-10-30", "2026-10-29", "2026-10-28", "2026-10-27", "2026-10-26"]
    assert [len(day) for day in days] == [29, 29, 29, 29, 29]
    assert days[0][0].attrib == {"currency": "USD", "rate": "1.1172"}


# The fake provider, over HTTP


@pytest.fixture
def fake_provider_url() -> Iterator[tuple[str, FakeProvider]]:
    app, provider = create_fake_provider()
    with running_server(app, timeout=5.0) as url:
        yield f"{url}{ECB_HISTORY_PATH}", provider


def test_fake_provider_serves_sample_in_ok_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url

    response = httpx.get(url)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content == SAMPLE_XML
    assert provider.requests == 1


def test_fake_provider_fails_every_request_in_http_500_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.HTTP_500

    statuses = [httpx.get(url).status_code for _ in range(3)]

    assert statuses == [500, 500, 500]
    assert provider.requests == 3


def test_fake_provider_recovers_after_failures_in_http_500_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.HTTP_500
    provider.failures = 2

    responses = [httpx.get(url) for _ in range(3)]

    assert [response.status_code for response in responses] == [500, 500, 200]
    assert responses[2].content == SAMPLE_XML


def test_fake_provider_answers_non_xml_in_garbage_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.GARBAGE

    response = httpx.get(url)

    assert response.status_code == 200
    assert response.content == GARBAGE_BODY
    with pytest.raises(ET.ParseError):
        ET.fromstring(response.content)


def test_fake_provider_cuts_document_in_truncated_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.TRUNCATED

    response = httpx.get(url)

    assert response.status_code == 200
    assert response.content == SAMPLE_XML[: len(SAMPLE_XML) // 2]
    with pytest.raises(ET.ParseError):
        ET.fromstring(response.content)


def test_fake_provider_answers_other_xml_in_wrong_xml_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.WRONG_XML

    response = httpx.get(url)

    assert response.status_code == 200
    assert response.content == WRONG_XML_BODY
    assert ET.fromstring(response.content).tag == "rates"


def test_fake_provider_outlasts_client_timeout_in_slow_mode() -> None:
    app, provider = create_fake_provider()
    provider.mode = Mode.SLOW
    # With a long grace period, a handler still sleeping after the client gave up would hold
    # the shutdown past the 5 s deadline and stop() would raise.
    with running_server(app, timeout=5.0, timeout_graceful_shutdown=60) as url:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{url}{ECB_HISTORY_PATH}", timeout=0.2)

    assert provider.requests == 1


def test_fake_provider_answers_after_delay_in_slow_mode(fake_provider_url: tuple[str, FakeProvider]) -> None:
    url, provider = fake_provider_url
    provider.mode = Mode.SLOW
    provider.slow_seconds = 0.2

    started = time.monotonic()
    response = httpx.get(url, timeout=5.0)

    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200
    assert response.content == SAMPLE_XML
