"""The product read cache: fast, and evicted whenever the catalog changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import update

from storefront.config import Settings
from storefront.context import context_of
from storefront.database import Database
from storefront.main import create_app
from storefront.messages import ProductsChanged
from storefront.models import Product
from tests.factories import Factory
from tests.test_metrics import sample


class AppClient(AsyncClient):
    """A client that also holds the app it talks to (for its context)."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app


@pytest.fixture
async def cached(settings: Settings, database: Database) -> AsyncIterator[AppClient]:
    app = create_app(settings.model_copy(update={"product_cache_seconds": 3600.0}))
    async with (
        LifespanManager(app) as manager,
        AppClient(app, transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        yield client


async def rename_behind_the_apps_back(database: Database, product_id: int, name: str) -> None:
    async with database.transaction() as session:
        await session.execute(update(Product).where(Product.id == product_id).values(name=name))


async def test_a_read_is_served_from_the_cache(cached: AppClient, factory: Factory, database: Database) -> None:
    product = await factory.product(name="Original")
    first = await cached.get(f"/api/v1/products/{product.id}")
    await rename_behind_the_apps_back(database, product.id, "Changed directly in the database")

    again = await cached.get(f"/api/v1/products/{product.id}")

    assert again.json() == first.json()
    assert again.headers["ETag"] == first.headers["ETag"]
    assert (
        await cached.get(f"/api/v1/products/{product.id}", headers={"If-None-Match": first.headers["ETag"]})
    ).status_code == 304


async def test_cached_answers_are_counted_under_their_route(
    cached: AppClient, factory: Factory, database: Database
) -> None:
    product = await factory.product(name="Original")
    await cached.get(f"/api/v1/products/{product.id}")
    await rename_behind_the_apps_back(database, product.id, "Changed directly in the database")
    ok = {"method": "GET", "route": "/api/v1/products/{product_id}", "status": "200"}
    before = sample((await cached.get("/metrics")).text, "storefront_http_requests_total", **ok)

    hit = await cached.get(f"/api/v1/products/{product.id}")
    after = sample((await cached.get("/metrics")).text, "storefront_http_requests_total", **ok)

    assert hit.json()["name"] == "Original"  # answered from the cache
    assert after - before == 1


async def test_catalog_writes_evict_at_once(cached: AppClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product(name="Before", stock=10)
    url = f"/api/v1/products/{product.id}"
    await cached.get(url)

    await cached.patch(url, json={"name": "After"}, headers=staff.headers)
    assert (await cached.get(url)).json()["name"] == "After"
    await cached.post(f"{url}/stock", json={"delta": -4}, headers=staff.headers)
    assert (await cached.get(url)).json()["stock"] == 6


async def test_orders_and_cancellations_evict_in_this_process(cached: AppClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    url = f"/api/v1/products/{product.id}"
    await cached.get(url)

    order = await cached.post("/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 3}]},
                              headers=buyer.headers)  # fmt: skip
    assert (await cached.get(url)).json()["stock"] == 7
    await cached.post(f"/api/v1/orders/{order.json()['id']}/cancel", headers=buyer.headers)
    assert (await cached.get(url)).json()["stock"] == 10


async def test_an_event_from_another_process_evicts(cached: AppClient, factory: Factory, database: Database) -> None:
    product = await factory.product(name="Old")
    url = f"/api/v1/products/{product.id}"
    await cached.get(url)
    await rename_behind_the_apps_back(database, product.id, "Renamed elsewhere")

    # What a product change in another process reaches this one as (via Redis in production).
    broker = context_of(cached.app).broker
    broker.products_changed_here(ProductsChanged(product_ids=(product.id,)))
    for _ in range(100):
        if (await cached.get(url)).json()["name"] == "Renamed elsewhere":
            break
        await asyncio.sleep(0.01)
    assert (await cached.get(url)).json()["name"] == "Renamed elsewhere"


async def test_a_cached_archived_product_stays_hidden_from_customers(cached: AppClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product(archived=True)
    url = f"/api/v1/products/{product.id}"
    assert (await cached.get(url, headers=staff.headers)).status_code == 200  # now cached
    assert (await cached.get(url)).status_code == 404
    assert (await cached.get(url, headers=staff.headers)).status_code == 200


async def test_ttl_zero_turns_the_cache_off(settings: Settings, factory: Factory, database: Database) -> None:
    app = create_app(settings.model_copy(update={"product_cache_seconds": 0.0}))
    product = await factory.product(name="One")
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as uncached,
    ):
        await uncached.get(f"/api/v1/products/{product.id}")
        await rename_behind_the_apps_back(database, product.id, "Two")
        assert (await uncached.get(f"/api/v1/products/{product.id}")).json()["name"] == "Two"


async def test_cached_anonymous_reads_keep_every_header_and_304(cached: AppClient, factory: Factory) -> None:
    product = await factory.product()
    url = f"/api/v1/products/{product.id}"
    first = await cached.get(url)  # fills the cache through the route
    hit = await cached.get(url)  # answered before routing

    assert hit.content == first.content
    for header in ("ETag", "X-Request-ID", "Server-Timing", "X-Content-Type-Options", "Content-Security-Policy"):
        assert header in hit.headers
    assert hit.headers["content-type"] == "application/json"
    assert (await cached.get(url, headers={"If-None-Match": f"W/{first.headers['ETag']}"})).status_code == 304
    metrics = (await cached.get("/metrics")).text
    assert 'route="/api/v1/products/{product_id}",status="200"' in metrics


async def test_credentials_skip_the_fast_path(cached: AppClient, factory: Factory) -> None:
    product = await factory.product()
    url = f"/api/v1/products/{product.id}"
    await cached.get(url)
    refused = await cached.get(url, headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert (await cached.get(f"/api/v1/products/{2**31}")).status_code == 422


async def test_concurrent_misses_share_one_database_read() -> None:
    from storefront.cache import CachedProduct, ProductCache

    cache = ProductCache(ttl_seconds=60)
    calls = 0

    async def loader() -> CachedProduct | None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return cache.entry(b"{}", '"product-1-v1"', archived=False)

    results = await asyncio.gather(*(cache.load(1, loader) for _ in range(50)))

    assert calls == 1
    assert {result.etag for result in results if result is not None} == {'"product-1-v1"'}
    assert cache.get(1) is not None


async def test_orders_tell_every_process_to_forget_the_stock(
    cached: AppClient, factory: Factory, database: Database
) -> None:
    from storefront.events.service import may_see

    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=10)
    broker = context_of(cached.app).broker
    heard: list[ProductsChanged | None] = []
    broker.on_products_changed(heard.append)
    with broker.subscribe() as streamed:
        placed = await cached.post(
            "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=buyer.headers
        )
        assert placed.status_code == 201
        events = []
        while not streamed.queue.empty():
            event = streamed.queue.get_nowait()
            assert event is not None
            events.append(event)
    # The stock change travels on the broker's product channel, not as an event anyone could stream.
    assert heard == [ProductsChanged(product_ids=(product.id,))]
    assert [event.type for event in events] == ["order.created"]
    assert all(may_see(staff.user, event) for event in events)


async def test_variant_changes_evict_and_move_the_etag(cached: AppClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"]}, [{"options": {"Size": "S"}, "stock": 4}, {"options": {"Size": "M"}, "stock": 6}]
    )
    small = (await factory.reload(Product, product.id)).variants[0]
    url = f"/api/v1/products/{product.id}"
    first = await cached.get(url)

    await cached.post(f"{url}/variants/{small.id}/stock", json={"delta": -1}, headers=staff.headers)
    after_stock = await cached.get(url)
    await cached.patch(f"{url}/variants/{small.id}", json={"price": "7.00"}, headers=staff.headers)
    after_price = await cached.get(url)

    assert (first.json()["stock"], after_stock.json()["stock"]) == (10, 9)
    assert after_stock.json()["variants"][0]["stock"] == 3
    assert after_price.json()["price"] == "7.00"
    assert len({first.headers["ETag"], after_stock.headers["ETag"], after_price.headers["ETag"]}) == 3
    assert (await cached.get(url, headers={"If-None-Match": first.headers["ETag"]})).status_code == 200
