"""Many clients writing the same rows at once, over real HTTP to the threaded uvicorn server.

Every write request is one transaction, so the guarantee we hold the app to is serializability per
request: whatever the interleaving, the stored state must be one that running the same requests
one after the other, in some order, could have produced, and the counts each request answers
must be the ones it would have answered in that order. With the same keys written by every
client, that means:

- each key holds exactly one row (no duplicate, no lost insert);
- the stored batch equals one client's whole batch, never a key from one client and a key from
  another (a mix is the sign of a lost update: a write decided on a stale read);
- exactly one client reports inserting each key, and every other client reports it updated or
  skipped, consistently with the values it replaced;
- no request fails: not a 5xx, and on SQLite not a 503 for "database is locked" either, since the
  app waits for the write lock (busy_timeout) instead of giving up.

These tests always use the threaded server, whatever `--transport` says: concurrency in process
through ASGITransport would not exercise uvicorn's connection handling or the connection pool.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Asset, AssetKind, AssetPrice, FxRate
from test_scripts.factories import AUTH, make_asset

pytestmark = pytest.mark.usefixtures("clean_db")

CLIENTS = 100
EDIT_ROUNDS = 3
QUOTES = ("USD", "JPY", "GBP", "CHF", "SEK", "NOK")
DAYS = tuple(date(2026, 10, 26) + timedelta(days=n) for n in range(5))
# One batch: 6 quotes x 5 days = 30 keys, every client writing all of them.
RATE_KEYS = tuple((quote, day) for quote in QUOTES for day in DAYS)
PRICE_DAYS = tuple(date(2026, 9, 1) + timedelta(days=n) for n in range(30))

Batch = dict[Any, Decimal]


@dataclass(frozen=True)
class Outcome:
    """What the concurrent clients were told and what the database holds afterwards."""

    batches: Sequence[Batch]
    responses: Sequence[httpx.Response]
    stored: Batch
    rows: int


def distinct_values(keys: Sequence[Any]) -> list[Batch]:
    """Client c writes k+1.0c to key k: no two clients write the same value anywhere."""
    return [{key: Decimal(f"{k + 1}.{c + 1:04d}") for k, key in enumerate(keys)} for c in range(CLIENTS)]


def overlapping_values(keys: Sequence[Any]) -> list[Batch]:
    """Client c writes one of three values to each key: any two clients agree on about a third of
    the keys. A client that skips a key because it read its own value there, while another client
    is changing it, leaves a mix of two batches: distinct values could never show that."""
    batches = []
    for c in range(CLIENTS):
        rng = random.Random(c)
        batches.append({key: Decimal(f"{k + 1}.{rng.randrange(3) + 1}") for k, key in enumerate(keys)})
    return batches


def shuffled(items: Sequence[Any], seed: int) -> list[Any]:
    """The items in a client-specific order: if the app locked rows in the order of the request,
    two clients would take them in opposite orders and deadlock on PostgreSQL."""
    order = list(items)
    random.Random(seed).shuffle(order)
    return order


async def concurrently(server_url: str, send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]) -> list[httpx.Response]:
    """Run `send(client, c)` for every client c at once, on its own connection to the server."""
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server_url, timeout=60, limits=limits) as client:
        return list(await asyncio.gather(*(send(client, c) for c in range(CLIENTS))))


def assert_all_ok(responses: Sequence[httpx.Response]) -> None:
    statuses = Counter(r.status_code for r in responses)
    failures = {r.status_code: r.text for r in responses if r.status_code != 200}
    assert statuses == {200: CLIENTS}, f"statuses {dict(statuses)}; a body per failing status: {failures}"


def writers_of(outcome: Outcome) -> list[int]:
    """The clients whose whole batch is what the database holds."""
    return [c for c, batch in enumerate(outcome.batches) if batch == outcome.stored]


def assert_counts_serializable(outcome: Outcome, keys: int) -> None:
    """Each answer adds up to its batch, and the first client to commit inserted every key: the
    others, which each wrote the whole batch after it, inserted none."""
    counts = [r.json() for r in outcome.responses]
    assert all(c["inserted"] + c["updated"] + c["skipped"] == keys for c in counts), counts
    assert sorted(c["inserted"] for c in counts) == [0] * (CLIENTS - 1) + [keys]


async def upsert_rates_concurrently(server_url: str, session: AsyncSession, batches: Sequence[Batch]) -> Outcome:
    async def send(client: httpx.AsyncClient, c: int) -> httpx.Response:
        rates = [
            {"base": "EUR", "quote": quote, "date": day.isoformat(), "rate": str(batches[c][quote, day])}
            for quote, day in shuffled(RATE_KEYS, seed=c)
        ]
        return await client.post("/api/v1/fx/rates", json={"rates": rates, "source": f"client-{c}"}, headers=AUTH)

    responses = await concurrently(server_url, send)
    rows = (await session.execute(select(FxRate.quote, FxRate.rate_date, FxRate.rate))).all()
    return Outcome(batches, responses, {(quote, day): rate for quote, day, rate in rows}, len(rows))


async def upsert_prices_concurrently(server_url: str, session: AsyncSession, batches: Sequence[Batch]) -> Outcome:
    asset = await make_asset(session)

    async def send(client: httpx.AsyncClient, c: int) -> httpx.Response:
        prices = [{"date": day.isoformat(), "price": str(batches[c][day])} for day in shuffled(PRICE_DAYS, seed=c)]
        return await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": prices}, headers=AUTH)

    responses = await concurrently(server_url, send)
    rows = (await session.execute(select(AssetPrice.price_date, AssetPrice.price))).all()
    return Outcome(batches, responses, dict(rows), len(rows))


UPSERTS = {
    "rates": (upsert_rates_concurrently, RATE_KEYS),
    "prices": (upsert_prices_concurrently, PRICE_DAYS),
}


@pytest.mark.parametrize("target", UPSERTS)
async def test_concurrent_upserts_of_distinct_values_leave_one_clients_batch(
    server_url: str, session: AsyncSession, target: str
) -> None:
    run, keys = UPSERTS[target]
    outcome = await run(server_url, session, distinct_values(keys))

    assert_all_ok(outcome.responses)
    assert outcome.rows == len(keys)
    assert len(writers_of(outcome)) == 1, f"the stored {target} mix several clients' batches"
    assert_counts_serializable(outcome, len(keys))
    # No value is ever written twice, so every client but the first changed every key.
    counts = sorted((r.json() for r in outcome.responses), key=lambda c: c["inserted"])
    assert counts == [{"inserted": 0, "updated": len(keys), "skipped": 0}] * (CLIENTS - 1) + [
        {"inserted": len(keys), "updated": 0, "skipped": 0}
    ]


@pytest.mark.parametrize("target", UPSERTS)
async def test_concurrent_upserts_of_overlapping_values_leave_one_clients_batch(
    server_url: str, session: AsyncSession, target: str
) -> None:
    run, keys = UPSERTS[target]
    outcome = await run(server_url, session, overlapping_values(keys))

    assert_all_ok(outcome.responses)
    assert outcome.rows == len(keys)
    assert writers_of(outcome), f"the stored {target} are no client's whole batch: a write was decided on a stale read"
    assert_counts_serializable(outcome, len(keys))


async def test_concurrent_rate_upserts_record_the_winners_source(server_url: str, session: AsyncSession) -> None:
    batches = distinct_values(RATE_KEYS)
    outcome = await upsert_rates_concurrently(server_url, session, batches)

    assert_all_ok(outcome.responses)
    (winner,) = writers_of(outcome)
    sources = set(await session.scalars(select(FxRate.source).distinct()))
    assert sources == {f"client-{winner}"}


async def edit_concurrently(server_url: str, asset_id: int, edits: Sequence[dict[str, str]]) -> list[httpx.Response]:
    async def send(client: httpx.AsyncClient, c: int) -> httpx.Response:
        return await client.patch(f"/api/v1/assets/{asset_id}", json=edits[c], headers=AUTH)

    return await concurrently(server_url, send)


async def test_concurrent_asset_edits_leave_one_whole_edit(server_url: str, session: AsyncSession) -> None:
    asset = await make_asset(session, name="before", kind=AssetKind.stock, currency="GBP", quantity=Decimal("7"))
    kinds = [kind.value for kind in AssetKind]
    # Only the name is unique to a client; the other fields repeat across clients, so a client
    # often finds a field already holding its value. Writing only the fields that differ from what
    # it read would then keep another client's value for that field: a mix of two edits. Each
    # round ends with one sample of that race, so we run several.
    for n in range(EDIT_ROUNDS):
        edits = [
            {"name": f"edit {n}.{c}", "kind": kinds[(c + n) % len(kinds)], "currency": ("USD", "EUR")[c % 2],
             "quantity": str(c % 3)}
            for c in range(CLIENTS)
        ]  # fmt: skip
        responses = await edit_concurrently(server_url, asset.id, edits)

        assert_all_ok(responses)
        async with httpx.AsyncClient(base_url=server_url) as client:
            stored = (await client.get(f"/api/v1/assets/{asset.id}")).json()
        winner = int(stored["name"].rpartition(".")[2])
        assert {field: stored[field] for field in edits[winner]} == edits[winner], f"round {n}: a mix of two edits"
        # The winner's own answer describes exactly the stored row, down to its updated_at.
        assert responses[winner].json() == stored
    assert await session.scalar(select(func.count()).select_from(Asset)) == 1
