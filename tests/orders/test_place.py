"""Placing orders: all-or-nothing stock, exact totals, clear refusals."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Order, OrderItem, Product
from tests.factories import Factory

ORDERS = "/api/v1/orders"
ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "de"}


async def count_orders(database: Database) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(Order)) or 0)


async def test_place_order_takes_stock_and_copies_prices(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    cup = await factory.product(name="Cup", price=Decimal("12.10"), stock=5)
    pot = await factory.product(name="Pot", price=Decimal("0.10"), stock=3)

    response = await client.post(
        ORDERS,
        json={
            "items": [{"product_id": cup.id, "quantity": 3}, {"product_id": pot.id, "quantity": 3}],
            "shipping_address": ADDRESS,
            "note": "ring twice",
        },
        headers=buyer.headers,
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert response.headers["Location"] == f"/api/v1/orders/{order['id']}"
    assert response.headers["ETag"]
    assert order["user_id"] == buyer.id
    assert order["status"] == "pending"
    assert order["currency"] == "EUR"
    cup_variant = (await factory.reload(Product, cup.id)).variants[0].id
    pot_variant = (await factory.reload(Product, pot.id)).variants[0].id
    # A product of one variant: the line names it, with its (empty) options and SKU.
    line: dict[str, object] = {"sku": None, "options": {}, "quantity": 3, "discount": "0.00", "tax": "0.00"}
    assert order["items"] == [
        {"product_id": cup.id, "variant_id": cup_variant, "name": "Cup", "unit_price": "12.10", "line_total": "36.30"}
        | line,
        {"product_id": pot.id, "variant_id": pot_variant, "name": "Pot", "unit_price": "0.10", "line_total": "0.30"}
        | line,
    ]
    assert order["subtotal"] == "36.60"
    assert order["total"] == "36.60"
    # No discount, shipping or tax rules yet: the subtotal is the total.
    assert (order["discount_code"], order["discount_total"]) == (None, "0.00")
    assert (order["shipping_method"], order["shipping_total"], order["tax_total"]) == (None, "0.00", "0.00")
    assert order["refunded_total"] == "0.00"
    assert order["shipping_address"] == ADDRESS | {"country": "DE", "line2": None, "region": None, "phone": None}
    assert order["note"] == "ring twice"
    assert (await factory.reload(Product, cup.id)).stock == 2
    assert (await factory.reload(Product, pot.id)).stock == 0


async def test_later_price_change_does_not_rewrite_the_order(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    cup = await factory.product(price=Decimal("5.00"))
    placed = await client.post(ORDERS, json={"items": [{"product_id": cup.id, "quantity": 1}]}, headers=buyer.headers)
    await client.patch(f"/api/v1/products/{cup.id}", json={"price": "9.99"}, headers=staff.headers)

    order = (await client.get(f"{ORDERS}/{placed.json()['id']}", headers=buyer.headers)).json()
    assert order["items"][0]["unit_price"] == "5.00"
    assert order["total"] == "5.00"


async def test_insufficient_stock_takes_nothing_and_names_the_product(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    plenty = await factory.product(stock=10)
    scarce = await factory.product(stock=1)

    response = await client.post(
        ORDERS,
        json={"items": [{"product_id": plenty.id, "quantity": 4}, {"product_id": scarce.id, "quantity": 2}]},
        headers=buyer.headers,
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["product_ids"] == [scarce.id]
    assert (await factory.reload(Product, plenty.id)).stock == 10
    assert (await factory.reload(Product, scarce.id)).stock == 1
    assert await count_orders(database) == 0


@pytest.mark.parametrize("archived", [True, False])
async def test_unknown_or_archived_product_is_422(
    client: AsyncClient, factory: Factory, database: Database, archived: bool
) -> None:
    buyer = await factory.customer()
    ok = await factory.product(stock=5)
    gone_id = (await factory.product(stock=5, archived=True)).id if archived else 999_999

    response = await client.post(
        ORDERS,
        json={"items": [{"product_id": ok.id, "quantity": 1}, {"product_id": gone_id, "quantity": 1}]},
        headers=buyer.headers,
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_product"
    assert response.json()["product_ids"] == [gone_id]
    assert (await factory.reload(Product, ok.id)).stock == 5
    assert await count_orders(database) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": 1001}]},
        {"items": [{"product_id": 1, "quantity": 1}, {"product_id": 1, "quantity": 2}]},
        {"items": [{"product_id": n, "quantity": 1} for n in range(1, 52)]},
        {"items": [{"product_id": 1, "quantity": 1}], "total": "0.01"},
        {"items": [{"product_id": 1, "quantity": 1, "unit_price": "0.01"}]},
        {"items": [{"product_id": 1, "quantity": 1}], "user_id": 99},
        {},
    ],
    ids=["no-lines", "zero", "over-1000", "duplicate", "51-lines", "total", "price", "user_id", "empty"],
)
async def test_bad_order_bodies_are_422_and_change_nothing(
    client: AsyncClient, factory: Factory, database: Database, body: dict[str, object]
) -> None:
    buyer = await factory.customer()
    product = await factory.product(id=1, stock=5)

    response = await client.post(ORDERS, json=body, headers=buyer.headers)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert (await factory.reload(Product, product.id)).stock == 5
    assert await count_orders(database) == 0


async def test_placing_an_order_needs_a_login(client: AsyncClient, factory: Factory) -> None:
    product = await factory.product()
    response = await client.post(ORDERS, json={"items": [{"product_id": product.id, "quantity": 1}]})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_fifty_concurrent_buyers_never_oversell(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyers = [await factory.customer() for _ in range(5)]
    product = await factory.product(stock=10)
    body = {"items": [{"product_id": product.id, "quantity": 1}]}

    responses = await asyncio.gather(
        *(client.post(ORDERS, json=body, headers=buyers[n % 5].headers) for n in range(50))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10, [r.text for r in responses if r.status_code not in (201, 409)]
    assert statuses.count(409) == 40
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    assert (await factory.reload(Product, product.id)).stock == 0
    assert await count_orders(database) == 10
    async with database.read_session() as session:
        sold = await session.scalar(select(func.sum(OrderItem.quantity)).where(OrderItem.product_id == product.id))
    assert sold == 10


async def test_opposite_line_orders_do_not_deadlock(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    a = await factory.product(stock=1000)
    b = await factory.product(stock=1000)
    forward = {"items": [{"product_id": a.id, "quantity": 1}, {"product_id": b.id, "quantity": 1}]}
    backward = {"items": [{"product_id": b.id, "quantity": 1}, {"product_id": a.id, "quantity": 1}]}

    responses = await asyncio.gather(
        *(client.post(ORDERS, json=forward if n % 2 else backward, headers=buyer.headers) for n in range(40))
    )

    assert [r.status_code for r in responses] == [201] * 40, [r.text for r in responses if r.status_code != 201]
    assert (await factory.reload(Product, a.id)).stock == 960
    assert (await factory.reload(Product, b.id)).stock == 960
    assert await count_orders(database) == 40
