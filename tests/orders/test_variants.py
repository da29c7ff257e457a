"""Orders of variants: stock taken per variant, all or nothing; lines that keep what was sold."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Event, OrderItem, Product, ProductVariant
from tests.catalog.test_api import assert_problem
from tests.factories import Factory
from tests.orders.test_place import count_orders

ORDERS = "/api/v1/orders"


async def tee(factory: Factory, small: int = 10, medium: int = 10, large: int = 10, prefix: str = "TEE") -> Product:
    return await factory.product_with_variants(
        {"Size": ["S", "M", "L"]},
        [
            {"options": {"Size": "S"}, "stock": small, "price": Decimal("20.00"), "sku": f"{prefix}-S"},
            {"options": {"Size": "M"}, "stock": medium, "price": Decimal("21.00"), "sku": f"{prefix}-M"},
            {"options": {"Size": "L"}, "stock": large, "price": Decimal("22.00"), "sku": f"{prefix}-L"},
        ],
        name="Tee",
    )


async def variant_stock(factory: Factory, product: Product) -> dict[str, int]:
    stored = await factory.reload(Product, product.id)
    return {str(variant.sku): variant.stock for variant in stored.variants}


async def test_an_order_line_names_a_variant_and_keeps_what_was_sold(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await tee(factory)
    medium = (await factory.reload(Product, product.id)).variants[1]

    response = await client.post(
        ORDERS, json={"items": [{"variant_id": medium.id, "quantity": 2}]}, headers=buyer.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["items"] == [
        {
            "product_id": product.id,
            "variant_id": medium.id,
            "sku": "TEE-M",
            "name": "Tee",
            "options": {"Size": "M"},
            "unit_price": "21.00",
            "quantity": 2,
            "line_total": "42.00",
            "discount": "0.00",
            "tax": "0.00",
        }
    ]
    assert response.json()["total"] == "42.00"
    assert await variant_stock(factory, product) == {"TEE-S": 10, "TEE-M": 8, "TEE-L": 10}
    assert (await factory.reload(Product, product.id)).stock == 28
    # A later rename of the variant, its price or its options never rewrites the order.
    patched = await client.patch(
        f"/api/v1/products/{product.id}/variants/{medium.id}", json={"sku": "TEE-MEDIUM", "price": "30.00"},
        headers=staff.headers,
    )  # fmt: skip
    assert patched.status_code == 200
    options = {"options": [{"name": "Size", "values": ["S", "M", "L", "XL"]}]}
    assert (await client.put(f"/api/v1/products/{product.id}/options", json=options, headers=staff.headers)).is_success
    order = (await client.get(f"{ORDERS}/{response.json()['id']}", headers=buyer.headers)).json()
    assert (order["items"][0]["sku"], order["items"][0]["unit_price"]) == ("TEE-M", "21.00")


async def test_a_product_of_several_variants_needs_a_variant_id(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await tee(factory)
    single = await factory.product(stock=5)

    response = await client.post(
        ORDERS,
        json={"items": [{"product_id": single.id, "quantity": 1}, {"product_id": product.id, "quantity": 1}]},
        headers=buyer.headers,
    )

    body = assert_problem(response, 422, "variant_required")
    assert body["product_ids"] == [product.id]
    assert (await factory.reload(Product, single.id)).stock == 5
    assert await variant_stock(factory, product) == {"TEE-S": 10, "TEE-M": 10, "TEE-L": 10}
    assert await count_orders(database) == 0


async def test_an_archived_variant_or_one_of_another_product_is_unknown(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product_with_variants(
        {"Size": ["S", "M"]},
        [{"options": {"Size": "S"}, "stock": 5}, {"options": {"Size": "M"}, "stock": 5, "archived": True}],
    )
    small, medium = (await factory.reload(Product, product.id)).variants
    other = await factory.product()

    archived = await client.post(
        ORDERS, json={"items": [{"variant_id": medium.id, "quantity": 1}]}, headers=buyer.headers
    )
    mismatched = await client.post(
        ORDERS, json={"items": [{"product_id": other.id, "variant_id": small.id, "quantity": 1}]}, headers=buyer.headers
    )
    by_product = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": 1}]}, headers=buyer.headers
    )

    assert assert_problem(archived, 422, "unknown_product")["variant_ids"] == [medium.id]
    assert assert_problem(mismatched, 422, "unknown_product")["variant_ids"] == [small.id]
    # Its one variant for sale left, the product may be named alone.
    assert by_product.status_code == 201, by_product.text
    assert by_product.json()["items"][0]["variant_id"] == small.id


async def test_a_shortfall_takes_nothing_and_names_the_variant(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await tee(factory, small=1)
    small, medium, _ = (await factory.reload(Product, product.id)).variants

    response = await client.post(
        ORDERS,
        json={"items": [{"variant_id": medium.id, "quantity": 3}, {"variant_id": small.id, "quantity": 2}]},
        headers=buyer.headers,
    )

    body = assert_problem(response, 409, "insufficient_stock")
    assert (body["product_ids"], body["variant_ids"]) == ([product.id], [small.id])
    assert await variant_stock(factory, product) == {"TEE-S": 1, "TEE-M": 10, "TEE-L": 10}
    assert (await factory.reload(Product, product.id)).stock == 21
    assert await count_orders(database) == 0


async def test_cancelling_returns_the_stock_to_the_variant(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await tee(factory)
    small, medium, _ = (await factory.reload(Product, product.id)).variants
    placed = await client.post(
        ORDERS,
        json={"items": [{"variant_id": small.id, "quantity": 4}, {"variant_id": medium.id, "quantity": 1}]},
        headers=buyer.headers,
    )
    assert await variant_stock(factory, product) == {"TEE-S": 6, "TEE-M": 9, "TEE-L": 10}
    version = (await factory.reload(Product, product.id)).version

    cancelled = await client.post(f"{ORDERS}/{placed.json()['id']}/cancel", headers=buyer.headers)

    assert cancelled.status_code == 200, cancelled.text
    assert await variant_stock(factory, product) == {"TEE-S": 10, "TEE-M": 10, "TEE-L": 10}
    stored = await factory.reload(Product, product.id)
    assert (stored.stock, stored.version > version) == (30, True)


async def test_stock_low_is_per_variant(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await tee(factory, small=6, medium=40)
    small, medium, _ = (await factory.reload(Product, product.id)).variants

    await client.post(
        ORDERS,
        json={"items": [{"variant_id": small.id, "quantity": 2}, {"variant_id": medium.id, "quantity": 2}]},
        headers=buyer.headers,
    )

    async with database.read_session() as session:
        low = (await session.scalars(select(Event).where(Event.type == "stock.low"))).all()
    assert [(e.data, e.audience) for e in low] == [
        ({"product_id": product.id, "variant_id": small.id, "sku": "TEE-S", "stock": 4}, "staff")
    ]


async def test_fifty_concurrent_orders_for_the_last_ten_of_a_variant_sell_ten(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyers = [await factory.customer() for _ in range(5)]
    product = await tee(factory, small=25, medium=10, large=7)
    small, medium, large = (await factory.reload(Product, product.id)).variants
    body = {"items": [{"variant_id": medium.id, "quantity": 1}]}

    responses = await asyncio.gather(
        *(client.post(ORDERS, json=body, headers=buyers[n % 5].headers) for n in range(50))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 10, [r.text for r in responses if r.status_code not in (201, 409)]
    assert statuses.count(409) == 40
    assert all(r.json()["variant_ids"] == [medium.id] for r in responses if r.status_code == 409)
    assert await variant_stock(factory, product) == {"TEE-S": 25, "TEE-M": 0, "TEE-L": 7}
    assert (await factory.reload(Product, product.id)).stock == 32
    assert await count_orders(database) == 10
    async with database.read_session() as session:
        lines = (
            await session.execute(
                select(OrderItem.variant_id, func.count(), func.sum(OrderItem.quantity)).group_by(OrderItem.variant_id)
            )
        ).all()
        versions = dict((await session.execute(select(ProductVariant.id, ProductVariant.version))).all())
    assert [tuple(line) for line in lines] == [(medium.id, 10, 10)]
    assert (versions[small.id], versions[large.id]) == (small.version, large.version)  # the siblings untouched


async def test_concurrent_orders_of_sibling_variants_in_opposite_order_do_not_deadlock(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    first = await tee(factory, small=100, medium=100)
    second = await tee(factory, small=100, medium=100, prefix="TOP")
    a, b, _ = (await factory.reload(Product, first.id)).variants
    c, d, _ = (await factory.reload(Product, second.id)).variants
    forward = {"items": [{"variant_id": v.id, "quantity": 1} for v in (a, b, c, d)]}
    backward = {"items": [{"variant_id": v.id, "quantity": 1} for v in (d, c, b, a)]}

    responses = await asyncio.gather(
        *(client.post(ORDERS, json=forward if n % 2 else backward, headers=buyer.headers) for n in range(30))
    )

    assert [r.status_code for r in responses] == [201] * 30, [r.text for r in responses if r.status_code != 201]
    assert await variant_stock(factory, first) == {"TEE-S": 70, "TEE-M": 70, "TEE-L": 10}
    assert (await factory.reload(Product, second.id)).stock == 150
