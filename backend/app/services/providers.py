"""FX rate providers: where reference rates come from before they reach the database.

Two providers read the European Central Bank's reference rates, "1 EUR = rate QUOTE" for each
business day: `ecb_file` from the history bundled with the app (a CSV, usually zipped) and
`ecb_http` from the ECB's XML feed. Both check every value before handing it on, so a bad
payload fails as a whole with a `ProviderError` that a person can act on, instead of storing
part of it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit
from xml.parsers import expat

import httpx

from app.core.config import Settings

logger = logging.getLogger(__name__)

ECB_BASE = "EUR"
ECB_XML_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
_CUBE = f"{{{ECB_XML_NAMESPACE}}}Cube"

# Only to word the error for a value `_Days.parse_rate` refused: a number, but not positive?
_NUMBER = re.compile(r"-?[0-9]*\.?[0-9]+\.?")
# date.fromisoformat also takes "20261030" and "2026-W44-5"; the feeds only ever use this form.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_NOT_QUOTED = frozenset({"", "N/A"})
# Expat errors that mean the document stopped early rather than went wrong in the middle.
_TRUNCATION_CODES = frozenset(
    expat.errors.codes[message]
    for message in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
    )
)
# Failures on the way to the server or back that a later attempt may not meet; everything else
# (a malformed URL, an unsupported scheme) fails the same way every time.
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
# A module-level name so tests can record the backoff delays instead of waiting them out.
_sleep = asyncio.sleep


@dataclass(frozen=True, slots=True)
class RateQuote:
    """One reference rate: 1 `base` buys `rate` of `quote` on the day `on`."""

    base: str
    quote: str
    on: date
    rate: Decimal


class ProviderError(Exception):
    """A provider could not deliver rates; the message names the provider, the source and why."""

    def __init__(self, provider: str, source: str, problem: str) -> None:
        super().__init__(f"{provider}: {source}: {problem}")
        self.provider = provider
        self.source = source
        self.problem = problem


class UnknownProvider(LookupError):
    """A provider name that `get_provider` does not know.

    We keep this apart from `ProviderError`: a wrong name is the caller's mistake, to be fixed
    in a request or in the settings, while a `ProviderError` is a source that failed.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}")
        self.name = name


class Provider(Protocol):
    """A source of reference rates."""

    name: str

    async def fetch(self, *, start: date | None = None, end: date | None = None) -> list[RateQuote]:
        """Every quote the source holds dated within [start, end], oldest first, then by quote."""
        ...


class _Days:
    """The rates of one payload, day by day, refusing anything we could not store as it is.

    Both providers feed their values through here, so the rules (and the wording of what broke
    them) are the same whichever format the rates came in.
    """

    def __init__(self, *, provider: str, source: str) -> None:
        self.provider = provider
        self.source = source
        self.rates: dict[date, dict[str, Decimal]] = {}

    def error(self, problem: str) -> ProviderError:
        return ProviderError(self.provider, self.source, problem)

    def parse_date(self, text: str, *, where: str) -> date:
        if _DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise self.error(f"{where}date {text!r} is not a valid YYYY-MM-DD date")

    def parse_rate(self, text: str, *, currency: str, where: str) -> Decimal:
        # Digits with at most one point: this test costs a fraction of a regular expression's,
        # which counts when a file holds some 220,000 values. It refuses a sign, an exponent, spaces,
        # "NaN" and "Infinity"; Decimal would take all of those.
        if text.isascii() and text.replace(".", "", 1).isdigit():
            rate = Decimal(text)  # exactly the digits written, never through a float
            if rate > 0:
                return rate
        problem = "not a positive number" if _NUMBER.fullmatch(text) else "not a decimal number"
        raise self.error(f"{where}rate for {currency} is {text!r}, {problem}")

    def check_currency(self, text: str, *, where: str) -> str:
        if not _CURRENCY.fullmatch(text):
            raise self.error(f"{where}currency {text!r} is not a three-letter upper-case code")
        return text

    def quotes(self, *, start: date | None, end: date | None) -> list[RateQuote]:
        """The quotes dated within [start, end], oldest first and then by quote currency."""
        if not any(self.rates.values()):
            raise self.error("contains no rates")
        quotes: list[RateQuote] = []
        append = quotes.append  # looked up once: this loop runs some 220,000 times for the history
        for day, rates in sorted(self.rates.items()):
            if (start is not None and day < start) or (end is not None and day > end):
                continue
            for currency, rate in sorted(rates.items()):
                append(RateQuote(ECB_BASE, currency, day, rate))
        return quotes


class EcbFileProvider:
    """The ECB's `eurofxref-hist` CSV, from a zip holding it or from the .csv itself."""

    name: str = "ecb_file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"EcbFileProvider({str(self.path)!r})"

    async def fetch(self, *, start: date | None = None, end: date | None = None) -> list[RateQuote]:
        """Every quote in the file dated within [start, end], oldest first, then by quote."""
        # Reading and parsing some 220,000 values takes a noticeable fraction of a second; in a
        # worker thread it does not stall every other request served by this event loop.
        return await asyncio.to_thread(self._read, start, end)

    def _read(self, start: date | None, end: date | None) -> list[RateQuote]:
        days = _Days(provider=self.name, source=str(self.path))
        text = self._read_text(days)
        if not text.strip():
            raise days.error("is empty")
        _parse_csv(text, days=days)
        return days.quotes(start=start, end=end)

    def _read_text(self, days: _Days) -> str:
        try:
            if self.path.suffix.lower() == ".zip":
                with zipfile.ZipFile(self.path) as archive:
                    data = archive.read(self._csv_member(archive, days))
            else:
                data = self.path.read_bytes()
        except FileNotFoundError:
            raise days.error("no such file") from None
        except (zipfile.BadZipFile, zlib.error) as exc:
            raise days.error(f"not a readable zip file ({exc})") from None
        except OSError as exc:
            raise days.error(f"cannot be read ({exc.strerror or exc})") from None
        try:
            # The ECB files are plain ASCII; "utf-8-sig" also takes them saved by a spreadsheet.
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise days.error(f"not UTF-8 text (byte {exc.start} is {data[exc.start]:#04x})") from None

    @staticmethod
    def _csv_member(archive: zipfile.ZipFile, days: _Days) -> str:
        members = [info.filename for info in archive.infolist() if info.filename.lower().endswith(".csv")]
        if len(members) != 1:
            raise days.error(f"holds {len(members)} .csv members ({', '.join(members) or 'none'}); expected one")
        return members[0]


def _parse_csv(text: str, *, days: _Days) -> None:
    """Fill `days` from the history CSV: a "Date" column, then one column per currency.

    Row numbers in our messages are line numbers in the file (the header is row 1), so a person
    can go straight to the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        if header[0] != "Date":
            raise days.error(f"row 1: the first column is {header[0]!r}, expected 'Date'")
        # The history ends every line with a comma, so its last column has no name and no values.
        columns: dict[str, int] = {}
        unnamed: list[int] = []
        for index, name in enumerate(header[1:], start=1):
            if not name:
                unnamed.append(index)
                continue
            currency = days.check_currency(name, where="row 1: ")
            if currency in columns:
                raise days.error(f"row 1: currency {currency} has two columns")
            columns[currency] = index
        # In currency order, so the sort in `_Days.quotes` finds each day already in order.
        ordered = sorted(columns.items())
        parse_rate = days.parse_rate  # looked up once rather than for each of ~220,000 values
        seen_on: dict[date, int] = {}
        for row in reader:
            if not row:
                continue  # a blank line, e.g. at the end of a file edited by hand
            line = reader.line_num
            if len(row) != len(header):
                raise days.error(f"row {line}: has {len(row)} cells, the header has {len(header)}")
            day = days.parse_date(row[0], where=f"row {line}: ")
            where = f"row {line} ({row[0]}): "
            if day in seen_on:
                raise days.error(f"{where}date already given on row {seen_on[day]}")
            seen_on[day] = line
            for index in unnamed:
                if row[index]:
                    raise days.error(f"{where}value {row[index]!r} in column {index + 1}, which has no currency")
            days.rates[day] = {
                currency: parse_rate(row[index], currency=currency, where=where)
                for currency, index in ordered
                if row[index] not in _NOT_QUOTED
            }
    except csv.Error as exc:
        raise days.error(f"row {reader.line_num}: not readable as CSV ({exc})") from None


def _without_credentials(url: str) -> str:
    """`url` without its user, password, query and fragment, which may carry credentials."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class EcbHttpProvider:
    """The ECB's XML feed (`eurofxref-hist.xml` and its shorter siblings), fetched over HTTP."""

    name: str = "ecb_http"

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        retries: int,
        backoff_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self.url = url
        # What messages, logs and repr show: a user, password or query in the URL may be a secret.
        self.source = _without_credentials(url)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.transport = transport

    def __repr__(self) -> str:
        return f"EcbHttpProvider({self.source!r}, timeout_s={self.timeout_s}, retries={self.retries})"

    async def fetch(self, *, start: date | None = None, end: date | None = None) -> list[RateQuote]:
        """Every quote in the feed dated within [start, end], oldest first, then by quote."""
        payload = await self._download()
        # The full history is several megabytes of XML; parsing it would stall the event loop.
        return await asyncio.to_thread(self._parse, payload, start, end)

    async def _download(self) -> bytes:
        """The body of the first successful answer, retrying what a later attempt may not meet."""
        attempts = self.retries + 1
        async with httpx.AsyncClient(
            timeout=self.timeout_s, transport=self.transport, follow_redirects=True
        ) as client:
            for attempt in range(attempts):
                try:
                    response = await client.get(self.url)
                except _TRANSIENT_ERRORS as exc:
                    failure = f"{type(exc).__name__} ({str(exc) or 'no detail'})"
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    raise self._error(f"request failed: {type(exc).__name__} ({exc}); not retried") from None
                else:
                    status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                    if response.is_success:
                        return response.content
                    if not response.is_server_error:
                        raise self._error(f"answered {status}; not retried")
                    failure = f"answered {status}"
                if attempt + 1 == attempts:
                    raise self._error(f"{failure} after {attempts} attempt{'s' if attempts > 1 else ''}")
                delay = self.backoff_s * 2**attempt
                logger.warning(
                    "%s: %s: %s on attempt %d of %d; retrying in %.2f s",
                    self.name,
                    self.source,
                    failure.replace(self.url, self.source),
                    attempt + 1,
                    attempts,
                    delay,
                )
                await _sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _error(self, problem: str) -> ProviderError:
        return ProviderError(self.name, self.source, problem.replace(self.url, self.source))

    def _parse(self, payload: bytes, start: date | None, end: date | None) -> list[RateQuote]:
        days = _Days(provider=self.name, source=self.source)
        root = _parse_xml(payload, days=days)
        _read_cubes(root, days=days)
        return days.quotes(start=start, end=end)


class _DoctypeFound(Exception):
    """Raised from inside expat when it meets a DOCTYPE; never leaves this module."""


class _NoDoctypeBuilder(ET.TreeBuilder):
    """A tree builder that stops at a DOCTYPE, whatever encoding hid it from the byte check."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _DoctypeFound


def _parse_xml(payload: bytes, *, days: _Days) -> ET.Element:
    """The document element of `payload`, refusing anything that could declare entities.

    Entities are declared only inside a DOCTYPE, and a handful of nested ones expand to gigabytes
    ("billion laughs"). The ECB feed never has one, so we refuse any: first by looking at the
    bytes, which names the problem plainly, then in the parser itself, which also catches a
    declaration spelled in UTF-16 or another encoding the byte check cannot read.
    """
    if not payload.strip():
        raise days.error("payload is empty")
    for declaration in (b"<!DOCTYPE", b"<!ENTITY"):
        if declaration in payload:
            raise days.error(f"payload contains {declaration.decode()}, which we refuse (entity expansion)")
    parser = ET.XMLParser(target=_NoDoctypeBuilder())
    try:
        parser.feed(payload)
        return parser.close()
    except _DoctypeFound:
        raise days.error("payload contains <!DOCTYPE, which we refuse (entity expansion)") from None
    except ET.ParseError as exc:
        # Expat counts columns from 0; editors, and so the people reading this, count from 1.
        line, column = exc.position[0], exc.position[1] + 1
        hint = " (truncated?)" if exc.code in _TRUNCATION_CODES else ""
        reason = expat.ErrorString(exc.code)
        raise days.error(f"payload is not well-formed XML{hint} at line {line}, column {column}: {reason}") from None


def _read_cubes(root: ET.Element, *, days: _Days) -> None:
    """Fill `days` from `<Cube time=...>` elements, each holding `<Cube currency= rate=/>`."""
    found = False
    for day_cube in root.iter(_CUBE):
        if "time" not in day_cube.attrib:
            continue  # the outer <Cube> that holds the days
        found = True
        text = day_cube.attrib["time"]
        day = days.parse_date(text, where="<Cube time=...>: ")
        where = f"{text}: "
        rates = days.rates.setdefault(day, {})
        for cube in day_cube:
            if cube.tag != _CUBE:
                continue
            currency_text, rate_text = cube.get("currency"), cube.get("rate")
            if currency_text is None or rate_text is None:
                raise days.error(f"{where}a <Cube> lacks its currency or rate attribute: {cube.attrib}")
            currency = days.check_currency(currency_text, where=where)
            if currency in rates:
                raise days.error(f"{where}rate for {currency} is given twice")
            rates[currency] = days.parse_rate(rate_text, currency=currency, where=where)
    if not found:
        raise days.error(f"payload is not ECB XML: no <Cube time=...> elements in namespace {ECB_XML_NAMESPACE}")


_FACTORIES: dict[str, Callable[[Settings], Provider]] = {
    EcbFileProvider.name: lambda settings: EcbFileProvider(settings.ecb_file_path),
    EcbHttpProvider.name: lambda settings: EcbHttpProvider(
        settings.ecb_http_url,
        timeout_s=settings.ecb_http_timeout_s,
        retries=settings.ecb_http_retries,
        backoff_s=settings.ecb_http_backoff_s,
    ),
}
PROVIDER_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def get_provider(name: str, settings: Settings) -> Provider:
    """The provider called `name`, configured from `settings`."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise UnknownProvider(name) from None
    return factory(settings)
