"""Tests for backend/app/services/providers.py: the ECB file and HTTP providers."""

from __future__ import annotations

import asyncio
import logging
import threading
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from app.core.config import DATA_DIR, Settings
from app.services import providers
from app.services.providers import (
    PROVIDER_NAMES,
    EcbFileProvider,
    EcbHttpProvider,
    ProviderError,
    RateQuote,
    UnknownProvider,
    get_provider,
)

BUNDLED_FILE = DATA_DIR / "eurofxref-hist.zip"
URL = "https://ecb.test/stats/eurofxref/eurofxref-hist.xml"
HEADER = "Date,USD,JPY,GBP,"

Handler = Callable[[httpx.Request], httpx.Response]


def quote(on: str, currency: str, rate: str) -> RateQuote:
    """An ECB quote, written the short way."""
    return RateQuote(base="EUR", quote=currency, on=date.fromisoformat(on), rate=Decimal(rate))


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    """A history CSV in `tmp_path` with `header` and `rows`, each line ending as the ECB's do."""
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text("".join(f"{line}\n" for line in (header, *rows)), encoding="utf-8")
    return path


def ecb_xml(days: dict[str, dict[str, str]]) -> bytes:
    """An ECB feed document holding `days` ({"2026-10-30": {"USD": "1.1172"}}), newest first."""
    cubes = "".join(
        f'\t\t<Cube time="{day}">\n'
        + "".join(f'\t\t\t<Cube currency="{currency}" rate="{rate}"/>\n' for currency, rate in rates.items())
        + "\t\t</Cube>\n"
        for day, rates in days.items()
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
        "\t<gesmes:subject>Reference rates</gesmes:subject>\n"
        "\t<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>\n"
        f"\t<Cube>\n{cubes}\t</Cube>\n"
        "</gesmes:Envelope>\n"
    ).encode()


SAMPLE_XML = ecb_xml(
    {
        "2026-10-30": {"USD": "1.1172", "JPY": "175.68"},
        "2026-10-29": {"USD": "1.1161", "JPY": "175.12"},
    }
)


class Recorder:
    """A MockTransport handler that answers from a script and keeps every request it saw."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        # The last answer repeats, so "fail forever" is one answer.
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def make_http_provider(handler: Handler, *, retries: int = 3, backoff_s: float = 0.0) -> EcbHttpProvider:
    """An `ecb_http` provider for `URL` whose requests go to `handler` instead of the network."""
    return EcbHttpProvider(
        URL, timeout_s=5.0, retries=retries, backoff_s=backoff_s, transport=httpx.MockTransport(handler)
    )


def xml_answer(payload: bytes, status_code: int = 200) -> httpx.Response:
    return httpx.Response(status_code, content=payload, headers={"Content-Type": "text/xml"})


async def fetch_error(provider: EcbFileProvider | EcbHttpProvider) -> str:
    """The message of the ProviderError that `provider.fetch()` raises."""
    with pytest.raises(ProviderError) as excinfo:
        await provider.fetch()
    return str(excinfo.value)


@pytest.fixture(scope="module")
def bundled_quotes() -> tuple[RateQuote, ...]:
    """Every quote in the bundled history, parsed once for the tests that only read it."""
    return tuple(asyncio.run(EcbFileProvider(BUNDLED_FILE).fetch()))


def rate_on(quotes: tuple[RateQuote, ...], on: date, currency: str) -> Decimal:
    (rate,) = [q.rate for q in quotes if q.on == on and q.quote == currency]
    return rate


# The bundled history


def test_fetch_bundled_file_returns_every_rate(bundled_quotes: tuple[RateQuote, ...]) -> None:
    assert len(bundled_quotes) == 221702


def test_fetch_bundled_file_reads_newest_usd(bundled_quotes: tuple[RateQuote, ...]) -> None:
    assert rate_on(bundled_quotes, date(2026, 10, 30), "USD") == Decimal("1.1172")


def test_fetch_bundled_file_reads_oldest_jpy(bundled_quotes: tuple[RateQuote, ...]) -> None:
    assert rate_on(bundled_quotes, date(1999, 1, 4), "JPY") == Decimal("133.73")


def test_fetch_bundled_file_orders_oldest_first_then_by_currency(bundled_quotes: tuple[RateQuote, ...]) -> None:
    assert (bundled_quotes[0], bundled_quotes[-1]) == (
        quote("1999-01-04", "AUD", "1.91"),
        quote("2026-10-30", "ZAR", "18.6455"),
    )


def test_fetch_bundled_file_skips_currencies_not_quoted(bundled_quotes: tuple[RateQuote, ...]) -> None:
    # The Bulgarian lev has N/A on 2026-10-30; the Cyprus pound stopped in 2007.
    currencies = {q.quote for q in bundled_quotes if q.on == date(2026, 10, 30)}
    assert ("BGN" in currencies, "CYP" in currencies, len(currencies)) == (False, False, 29)


async def test_fetch_bundled_file_filters_by_date() -> None:
    quotes = await EcbFileProvider(BUNDLED_FILE).fetch(start=date(2026, 10, 1), end=date(2026, 10, 30))
    days = sorted({q.on for q in quotes})
    assert (len(quotes), len(days), days[0], days[-1]) == (638, 22, date(2026, 10, 1), date(2026, 10, 30))


async def test_fetch_file_parses_in_worker_thread(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Parsing the whole history takes most of a second; on the event loop's thread it would
    # stall every other request for that long.
    threads: list[int] = []
    read = EcbFileProvider._read

    def spy(self: EcbFileProvider, start: date | None, end: date | None) -> list[RateQuote]:
        threads.append(threading.get_ident())
        return read(self, start, end)

    monkeypatch.setattr(EcbFileProvider, "_read", spy)
    await EcbFileProvider(write_csv(tmp_path, "2026-10-30,1.1172,N/A,N/A,")).fetch()
    assert len(threads) == 1 and threads[0] != threading.get_ident()


# A small CSV of our own


async def test_fetch_csv_skips_na_and_empty_cells(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,0.8338,", "2026-10-29,1.1161,175.12,,")
    assert await EcbFileProvider(path).fetch() == [
        quote("2026-10-29", "JPY", "175.12"),
        quote("2026-10-29", "USD", "1.1161"),
        quote("2026-10-30", "GBP", "0.8338"),
        quote("2026-10-30", "USD", "1.1172"),
    ]


async def test_fetch_csv_keeps_rates_exactly_as_written(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,7.4500,")
    quotes = await EcbFileProvider(path).fetch()
    assert [str(q.rate) for q in quotes] == ["7.4500", "1.1172"]


async def test_fetch_csv_filters_by_inclusive_bounds(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.3,N/A,N/A,", "2026-10-29,1.2,N/A,N/A,", "2026-10-28,1.1,N/A,N/A,")
    quotes = await EcbFileProvider(path).fetch(start=date(2026, 10, 29), end=date(2026, 10, 30))
    assert quotes == [quote("2026-10-29", "USD", "1.2"), quote("2026-10-30", "USD", "1.3")]


async def test_fetch_zip_reads_its_csv_member(tmp_path: Path) -> None:
    path = tmp_path / "hist.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("eurofxref-hist.csv", f"{HEADER}\n2026-10-30,1.1172,175.68,N/A,\n")
    assert await EcbFileProvider(path).fetch() == [
        quote("2026-10-30", "JPY", "175.68"),
        quote("2026-10-30", "USD", "1.1172"),
    ]


async def test_fetch_zip_rejects_two_csv_members(tmp_path: Path) -> None:
    path = tmp_path / "hist.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", HEADER)
        archive.writestr("b.csv", HEADER)
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: holds 2 .csv members (a.csv, b.csv); expected one"
    )


async def test_fetch_zip_rejects_file_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "hist.zip"
    path.write_text(HEADER, encoding="utf-8")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: not a readable zip file (File is not a zip file)"
    )


@pytest.mark.parametrize("text", ["1.1x", "NaN", "Infinity", "1e3", "1_000", " 1.1", "+1.1"])
async def test_fetch_csv_rejects_rate_that_is_not_a_number(tmp_path: Path, text: str) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,N/A,", f"2026-10-29,{text},N/A,N/A,")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: row 3 (2026-10-29): rate for USD is {text!r}, not a decimal number"
    )


@pytest.mark.parametrize("text", ["0", "0.0000", "-1.5"])
async def test_fetch_csv_rejects_rate_that_is_not_positive(tmp_path: Path, text: str) -> None:
    path = write_csv(tmp_path, f"2026-10-30,1.1172,{text},N/A,")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: row 2 (2026-10-30): rate for JPY is {text!r}, not a positive number"
    )


@pytest.mark.parametrize("text", ["2026/10/30", "30.10.2026", "20261030", "2026-02-30", ""])
async def test_fetch_csv_rejects_bad_date(tmp_path: Path, text: str) -> None:
    path = write_csv(tmp_path, f"{text},1.1172,N/A,N/A,")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: row 2: date {text!r} is not a valid YYYY-MM-DD date"
    )


async def test_fetch_csv_rejects_duplicate_date(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,N/A,", "2026-10-29,1.1161,N/A,N/A,", "2026-10-30,1.2,N/A,N/A,")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: row 4 (2026-10-30): date already given on row 2"
    )


async def test_fetch_csv_rejects_row_of_wrong_length(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,")
    assert await fetch_error(EcbFileProvider(path)) == f"ecb_file: {path}: row 2: has 4 cells, the header has 5"


async def test_fetch_csv_rejects_header_without_date_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1172,N/A,N/A,", header="Day,USD,JPY,GBP,")
    assert await fetch_error(EcbFileProvider(path)) == (
        f"ecb_file: {path}: row 1: the first column is 'Day', expected 'Date'"
    )


async def test_fetch_csv_rejects_duplicate_currency_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,1.1,1.2,", header="Date,USD,USD,")
    assert await fetch_error(EcbFileProvider(path)) == f"ecb_file: {path}: row 1: currency USD has two columns"


async def test_fetch_csv_rejects_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert await fetch_error(EcbFileProvider(path)) == f"ecb_file: {path}: is empty"


async def test_fetch_csv_rejects_file_without_rates(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-10-30,N/A,N/A,N/A,")
    assert await fetch_error(EcbFileProvider(path)) == f"ecb_file: {path}: contains no rates"


async def test_fetch_file_rejects_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.zip"
    assert await fetch_error(EcbFileProvider(path)) == f"ecb_file: {path}: no such file"


# The HTTP feed


async def test_fetch_http_returns_quotes_oldest_first() -> None:
    provider = make_http_provider(Recorder(xml_answer(SAMPLE_XML)))
    assert await provider.fetch() == [
        quote("2026-10-29", "JPY", "175.12"),
        quote("2026-10-29", "USD", "1.1161"),
        quote("2026-10-30", "JPY", "175.68"),
        quote("2026-10-30", "USD", "1.1172"),
    ]


async def test_fetch_http_gets_the_configured_url() -> None:
    recorder = Recorder(xml_answer(SAMPLE_XML))
    await make_http_provider(recorder).fetch()
    assert [(r.method, str(r.url)) for r in recorder.requests] == [("GET", URL)]


async def test_fetch_http_filters_by_date() -> None:
    provider = make_http_provider(Recorder(xml_answer(SAMPLE_XML)))
    assert await provider.fetch(start=date(2026, 10, 30)) == [
        quote("2026-10-30", "JPY", "175.68"),
        quote("2026-10-30", "USD", "1.1172"),
    ]


async def test_fetch_http_retries_after_server_error() -> None:
    recorder = Recorder(httpx.Response(500), xml_answer(SAMPLE_XML))
    quotes = await make_http_provider(recorder).fetch()
    assert (len(recorder.requests), len(quotes)) == (2, 4)


async def test_fetch_http_retries_after_connect_error() -> None:
    recorder = Recorder(httpx.ConnectError("connection refused"), xml_answer(SAMPLE_XML))
    quotes = await make_http_provider(recorder).fetch()
    assert (len(recorder.requests), len(quotes)) == (2, 4)


async def test_fetch_http_gives_up_after_server_errors() -> None:
    recorder = Recorder(httpx.Response(500))
    message = await fetch_error(make_http_provider(recorder, retries=3))
    assert (len(recorder.requests), message) == (
        4,
        f"ecb_http: {URL}: answered HTTP 500 Internal Server Error after 4 attempts",
    )


async def test_fetch_http_tries_once_without_retries() -> None:
    recorder = Recorder(httpx.Response(503))
    message = await fetch_error(make_http_provider(recorder, retries=0))
    assert (len(recorder.requests), message) == (
        1,
        f"ecb_http: {URL}: answered HTTP 503 Service Unavailable after 1 attempt",
    )


async def test_fetch_http_does_not_retry_client_error() -> None:
    recorder = Recorder(httpx.Response(404))
    message = await fetch_error(make_http_provider(recorder))
    assert (len(recorder.requests), message) == (1, f"ecb_http: {URL}: answered HTTP 404 Not Found; not retried")


async def test_fetch_http_gives_up_after_timeouts() -> None:
    recorder = Recorder(httpx.ReadTimeout("timed out"))
    message = await fetch_error(make_http_provider(recorder, retries=2))
    assert (len(recorder.requests), message) == (3, f"ecb_http: {URL}: ReadTimeout (timed out) after 3 attempts")


async def test_fetch_http_logs_each_retry(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(httpx.Response(502), httpx.Response(502), xml_answer(SAMPLE_XML))
    with caplog.at_level(logging.WARNING, logger=providers.__name__):
        await make_http_provider(recorder).fetch()
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, f"ecb_http: {URL}: answered HTTP 502 Bad Gateway on attempt 1 of 4; retrying in 0.00 s"),
        (logging.WARNING, f"ecb_http: {URL}: answered HTTP 502 Bad Gateway on attempt 2 of 4; retrying in 0.00 s"),
    ]


async def test_fetch_http_backs_off_exponentially(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(providers, "_sleep", record)
    await fetch_error(make_http_provider(Recorder(httpx.Response(500)), retries=3, backoff_s=0.5))
    assert delays == [0.5, 1.0, 2.0]


async def test_fetch_http_rejects_garbage() -> None:
    provider = make_http_provider(Recorder(xml_answer(b"\x89PNG\r\n\x1a\n not xml at all")))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: payload is not well-formed XML at line 1, column 1: not well-formed (invalid token)"
    )


async def test_fetch_http_rejects_truncated_document() -> None:
    # The download stops inside the second day's JPY element, as a dropped connection leaves it.
    truncated = SAMPLE_XML[: SAMPLE_XML.index(b'<Cube currency="JPY" rate="175.12"') + 20]
    provider = make_http_provider(Recorder(xml_answer(truncated)))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: payload is not well-formed XML (truncated?) at line 12, column 4: unclosed token"
    )


async def test_fetch_http_rejects_xml_that_is_not_ecb() -> None:
    provider = make_http_provider(Recorder(xml_answer(b"<html><body><Cube time='2026-10-30'/></body></html>")))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: payload is not ECB XML: no <Cube time=...> elements "
        "in namespace http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
    )


async def test_fetch_http_refuses_doctype() -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<lolz>&lol2;</lolz>'
    )
    provider = make_http_provider(Recorder(xml_answer(laughs)))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: payload contains <!DOCTYPE, which we refuse (entity expansion)"
    )


async def test_fetch_http_refuses_doctype_hidden_by_utf16() -> None:
    # The byte check cannot see "<!DOCTYPE" spelled in UTF-16; the parser itself must stop it.
    document = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'
    provider = make_http_provider(Recorder(xml_answer(document.encode("utf-16"))))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: payload contains <!DOCTYPE, which we refuse (entity expansion)"
    )


@pytest.mark.parametrize("text", ["0", "-1.1172"])
async def test_fetch_http_rejects_rate_that_is_not_positive(text: str) -> None:
    payload = ecb_xml({"2026-10-30": {"USD": "1.1172", "JPY": text}})
    provider = make_http_provider(Recorder(xml_answer(payload)))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: 2026-10-30: rate for JPY is {text!r}, not a positive number"
    )


async def test_fetch_http_rejects_bad_date() -> None:
    provider = make_http_provider(Recorder(xml_answer(ecb_xml({"30/10/2026": {"USD": "1.1172"}}))))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: <Cube time=...>: date '30/10/2026' is not a valid YYYY-MM-DD date"
    )


async def test_fetch_http_rejects_duplicate_rate() -> None:
    payload = ecb_xml({"2026-10-30": {"USD": "1.1172"}}).replace(
        b'<Cube currency="USD" rate="1.1172"/>', b'<Cube currency="USD" rate="1.1172"/><Cube currency="USD" rate="1.2"/>'
    )
    provider = make_http_provider(Recorder(xml_answer(payload)))
    assert await fetch_error(provider) == f"ecb_http: {URL}: 2026-10-30: rate for USD is given twice"


async def test_fetch_http_rejects_duplicate_rate_across_day_cubes() -> None:
    day = b'<Cube time="2026-10-30"><Cube currency="USD" rate="1.1172"/></Cube>'
    payload = ecb_xml({}).replace(b"\t<Cube>\n", b"\t<Cube>\n" + day + day)
    provider = make_http_provider(Recorder(xml_answer(payload)))
    assert await fetch_error(provider) == f"ecb_http: {URL}: 2026-10-30: rate for USD is given twice"


async def test_fetch_http_rejects_cube_without_rate() -> None:
    payload = ecb_xml({"2026-10-30": {"USD": "1.1172"}}).replace(b' rate="1.1172"', b"")
    provider = make_http_provider(Recorder(xml_answer(payload)))
    assert await fetch_error(provider) == (
        f"ecb_http: {URL}: 2026-10-30: a <Cube> lacks its currency or rate attribute: {{'currency': 'USD'}}"
    )


async def test_fetch_http_rejects_document_without_rates() -> None:
    provider = make_http_provider(Recorder(xml_answer(ecb_xml({"2026-10-30": {}}))))
    assert await fetch_error(provider) == f"ecb_http: {URL}: contains no rates"


async def test_fetch_http_rejects_empty_body() -> None:
    provider = make_http_provider(Recorder(xml_answer(b"")))
    assert await fetch_error(provider) == f"ecb_http: {URL}: payload is empty"


# Choosing a provider


def make_settings(tmp_path: Path) -> Settings:
    # _env_file=None: a developer's .env must not change what these tests see.
    return Settings(
        _env_file=None,
        ecb_file_path=tmp_path / "hist.zip",
        ecb_http_url=URL,
        ecb_http_timeout_s=7.5,
        ecb_http_retries=2,
        ecb_http_backoff_s=0.25,
    )


def test_get_provider_builds_file_provider_from_settings(tmp_path: Path) -> None:
    provider = get_provider("ecb_file", make_settings(tmp_path))
    assert isinstance(provider, EcbFileProvider)
    assert (provider.name, provider.path) == ("ecb_file", tmp_path / "hist.zip")


def test_get_provider_builds_http_provider_from_settings(tmp_path: Path) -> None:
    provider = get_provider("ecb_http", make_settings(tmp_path))
    assert isinstance(provider, EcbHttpProvider)
    assert (provider.name, provider.url, provider.timeout_s, provider.retries, provider.backoff_s) == (
        "ecb_http",
        URL,
        7.5,
        2,
        0.25,
    )


def test_get_provider_rejects_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(UnknownProvider) as excinfo:
        get_provider("x", make_settings(tmp_path))
    assert str(excinfo.value) == "unknown provider 'x'; known: ecb_file, ecb_http"


def test_provider_names_lists_every_provider() -> None:
    assert PROVIDER_NAMES == ("ecb_file", "ecb_http")
