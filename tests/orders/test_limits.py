"""The largest order the contract allows fits, to the cent, on every database;
strict integers in order lines."""

from __future__ import annotations

from decimal import Decimal

from httpx import AsyncClient
from sqlalchemy import select

from storefront.database import Database
from storefront.models import Order, Product
from tests.factories import Factory
from tests.users.helpers import assert_problem

ORDERS = "/api/v1/orders"


async def test_the_largest_order_the_contract_allows_is_placed_exactly(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    products = [await factory.product(price=Decimal("999999.99"), stock=1000) for _ in range(49)]
    products.append(await factory.product(price=Decimal("1000000.00"), stock=1000))

    response = await client.post(
        ORDERS, json={"items": [{"product_id": p.id, "quantity": 1000} for p in products]}, headers=buyer.headers
    )

    assert response.status_code == 201, response.text
    expected = Decimal("999999.99") * 1000 * 49 + Decimal("1000000.00") * 1000
    assert response.json()["total"] == f"{expected:.2f}" == "49999999510.00"
    assert response.json()["items"][-1]["line_total"] == "1000000000.00"
    async with database.read_session() as session:
        order = (await session.scalars(select(Order))).one()
        assert order.total == expected
        stock = (await session.scalars(select(Product.stock))).all()
    assert set(stock) == {0}
    read = await client.get(f"{ORDERS}/{order.id}", headers=buyer.headers)
    assert read.json()["total"] == "49999999510.00"


async def test_quantities_must_be_json_integers(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)

    for quantity in [True, "2", 2.0, 2.5]:
        response = await client.post(
            ORDERS, json={"items": [{"product_id": product.id, "quantity": quantity}]}, headers=buyer.headers
        )
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"][-1] == "quantity", body

    async with database.read_session() as session:
        assert (await session.scalars(select(Order))).first() is None
        assert (await session.get(Product, product.id)).stock == 10  # type: ignore[union-attr]
