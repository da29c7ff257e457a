"""Catalog changes are recorded as public events (stock.low for staff only)."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets
from httpx import AsyncClient
from sqlalchemy import select

from storefront.database import Database
from storefront.models import Event, Product
from tests.conftest import LiveServer
from tests.factories import Factory

PRODUCTS = "/api/v1/products"


async def events(database: Database) -> list[Event]:
    async with database.read_session() as session:
        return list(await session.scalars(select(Event).order_by(Event.id)))


async def test_create_update_archive_are_recorded(client: AsyncClient, factory: Factory, database: Database) -> None:
    admin = await factory.admin()
    created = await client.post(PRODUCTS, json={"name": "Lamp", "price": "20.00", "stock": 8}, headers=admin.headers)
    product_id = created.json()["id"]
    await client.patch(f"{PRODUCTS}/{product_id}", json={"price": "25.00"}, headers=admin.headers)
    await client.delete(f"{PRODUCTS}/{product_id}", headers=admin.headers)
    refused = await client.patch(f"{PRODUCTS}/{product_id}", json={"price": "-1"}, headers=admin.headers)

    assert refused.status_code == 422
    recorded = await events(database)
    assert [(e.type, e.audience) for e in recorded] == [
        ("product.created", "public"),
        ("product.updated", "public"),
        ("product.archived", "public"),
    ]
    assert [e.data["price"] for e in recorded] == ["20.00", "25.00", "25.00"]
    assert recorded[2].data["archived"] is True


async def test_stock_adjustment_below_threshold_emits_stock_low(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    product = await factory.product(stock=7, sku="LAMP-1")
    for delta in (-1, -1, -1, 10):
        await client.post(f"{PRODUCTS}/{product.id}/stock", json={"delta": delta}, headers=staff.headers)

    low = [(e.data, e.audience) for e in await events(database) if e.type == "stock.low"]
    variant_id = (await factory.reload(Product, product.id)).variants[0].id
    assert low == [({"product_id": product.id, "variant_id": variant_id, "sku": "LAMP-1", "stock": 5}, "staff")]


async def test_customers_hear_product_events_but_not_stock_low(live_server: LiveServer, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=6)
    async with websockets.connect(f"{live_server.ws_url}/ws/events", additional_headers=buyer.headers) as ws:
        async with httpx.AsyncClient(base_url=live_server.url) as client:
            await client.post(f"{PRODUCTS}/{product.id}/stock", json={"delta": -2}, headers=staff.headers)
            await client.patch(f"{PRODUCTS}/{product.id}", json={"name": "Renamed"}, headers=staff.headers)
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        second = json.loads(await asyncio.wait_for(ws.recv(), 10))
    # stock.low came between these two; the customer never sees it.
    assert [first["type"], second["type"]] == ["product.updated", "product.updated"]
    assert [first["data"]["stock"], second["data"]["name"]] == [4, "Renamed"]
