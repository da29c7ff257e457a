"""Cached list pages: what customers and anonymous callers browse, forgotten at every catalog change."""

from __future__ import annotations

import asyncio

from storefront.cache import PageLoader, ProductCache
from storefront.database import Database
from tests.catalog.test_cache import AppClient, cached, rename_behind_the_apps_back
from tests.factories import Factory

__all__ = ["cached"]  # the fixture, shared with the product-read cache's tests

LIST = "/api/v1/products?category=kitchen&sort=name"


async def test_a_page_is_served_from_the_cache_with_its_headers(
    cached: AppClient, factory: Factory, database: Database
) -> None:
    products = [await factory.product(name=f"Pan {n}", category="kitchen") for n in range(3)]
    first = await cached.get(LIST + "&limit=2")
    await rename_behind_the_apps_back(database, products[0].id, "Renamed directly in the database")

    again = await cached.get(LIST + "&limit=2")

    assert again.json() == first.json()
    assert [p["name"] for p in again.json()] == ["Pan 0", "Pan 1"]
    assert again.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in again.headers["Link"]
    assert again.headers["content-type"] == "application/json"


async def test_staff_read_the_database_not_the_cache(cached: AppClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    product = await factory.product(name="Pan", category="kitchen")
    await cached.get(LIST)
    await rename_behind_the_apps_back(database, product.id, "Wok")

    assert [p["name"] for p in (await cached.get(LIST, headers=staff.headers)).json()] == ["Wok"]
    assert [p["name"] for p in (await cached.get(LIST)).json()] == ["Pan"]


async def test_different_queries_are_different_pages(cached: AppClient, factory: Factory) -> None:
    await factory.product(name="Pan", category="kitchen")
    await factory.product(name="Rake", category="garden")

    assert [p["name"] for p in (await cached.get(LIST)).json()] == ["Pan"]
    assert [p["name"] for p in (await cached.get("/api/v1/products?category=garden")).json()] == ["Rake"]
    assert (await cached.get(LIST + "&skip=1")).json() == []


async def test_a_catalog_write_forgets_every_page(cached: AppClient, factory: Factory) -> None:
    staff = await factory.staff()
    await factory.product(name="Pan", category="kitchen")
    await cached.get(LIST)

    created = await cached.post(
        "/api/v1/products",
        json={"name": "Kettle", "price": "30.00", "stock": 5, "category": "kitchen"},
        headers=staff.headers,
    )

    assert created.status_code == 201
    assert [p["name"] for p in (await cached.get(LIST)).json()] == ["Kettle", "Pan"]


async def test_an_order_taking_the_last_unit_drops_the_product_from_in_stock_pages(
    cached: AppClient, factory: Factory
) -> None:
    buyer = await factory.customer()
    product = await factory.product(name="Pan", category="kitchen", stock=1)
    in_stock = LIST + "&in_stock=true"
    assert [p["name"] for p in (await cached.get(in_stock)).json()] == ["Pan"]

    placed = await cached.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers
    )

    assert placed.status_code == 201
    listed = await cached.get(in_stock)
    assert listed.json() == []
    assert listed.headers["X-Total-Count"] == "0"


async def test_a_load_overtaken_by_a_change_is_not_kept() -> None:
    cache = ProductCache(ttl_seconds=60)
    loads = 0

    async def load_while_the_catalog_changes() -> tuple[bytes, int]:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0)
        cache.evict(7)  # a change committed while this load read the old rows
        return b"[]", 0

    await cache.page("key", load_while_the_catalog_changes)
    await cache.page("key", load_while_the_catalog_changes)

    assert loads == 2


async def test_pages_are_bounded() -> None:
    cache = ProductCache(ttl_seconds=60, max_pages=2)
    loads: list[str] = []

    def loader(key: str) -> PageLoader:
        async def load() -> tuple[bytes, int]:
            loads.append(key)
            return key.encode(), 1

        return load

    for key in ("a", "b", "c", "a"):
        await cache.page(key, loader(key))

    assert loads == ["a", "b", "c", "a"]  # "a" was the oldest when "c" came, so it went
