"""Refunds of `manual` payments (recorded as given back by hand), what a refund request may
hold, and the Stripe webhook on a shop that does not take cards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.models import Email, Event, Product, Refund
from tests.factories import Factory

ORDERS = "/api/v1/orders"


async def paid_order(client: AsyncClient, factory: Factory, *, stock: int = 5) -> tuple[dict[str, Any], Product]:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(price=Decimal("10.00"), stock=stock)
    placed = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": 3}]}, headers=buyer.headers
    )
    assert placed.status_code == 201, placed.text
    order = placed.json()
    paid = await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "paid"}, headers=staff.headers)
    assert paid.status_code == 200
    return paid.json(), product


async def count(database: Database, query: Any) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(query) or 0)


async def test_a_manual_refund_is_recorded_as_given_back(client: AsyncClient, factory: Factory) -> None:
    order, product = await paid_order(client, factory)
    staff = await factory.staff()
    url = f"{ORDERS}/{order['id']}/refunds"

    part = await client.post(url, json={"amount": 12.5, "reason": "One was broken"}, headers=staff.headers)

    assert part.status_code == 201, part.text
    assert part.headers["Cache-Control"] == "no-store"
    assert {key: part.json()[key] for key in ("amount", "reason", "status", "restocked")} == {
        "amount": "12.50",
        "reason": "One was broken",
        "status": "succeeded",
        "restocked": False,
    }
    read = (await client.get(f"{ORDERS}/{order['id']}", headers=staff.headers)).json()
    assert (read["status"], read["refunded_total"]) == ("paid", "12.50")
    payment = (await client.get(f"{ORDERS}/{order['id']}/payment", headers=staff.headers)).json()
    assert (payment["status"], payment["refunded_total"]) == ("partially_refunded", "12.50")

    rest = await client.post(url, json={"reason": "Returned", "restock": True}, headers=staff.headers)

    assert rest.status_code == 201, rest.text
    assert (rest.json()["amount"], rest.json()["restocked"]) == ("17.50", True)
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=staff.headers)).json()["status"] == "refunded"
    assert (await factory.reload(Product, product.id)).stock == 5
    database = factory.database
    assert await count(database, select(func.count()).where(Email.kind == "refund_issued")) == 2
    assert await count(database, select(func.count()).where(Event.type == "refund.created")) == 2
    assert await count(database, select(func.count()).where(Event.type == "refund.succeeded")) == 2
    nothing_left = await client.post(url, json={"amount": "0.01", "reason": "x"}, headers=staff.headers)
    assert (nothing_left.status_code, nothing_left.json()["code"]) == (409, "refund_exceeds_payment")
    assert nothing_left.json()["refundable"] == "0.00"


async def test_a_cancelled_paid_order_is_not_restocked_twice(client: AsyncClient, factory: Factory) -> None:
    order, product = await paid_order(client, factory)
    staff = await factory.staff()
    cancelled = await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "cancelled"}, headers=staff.headers)
    assert cancelled.status_code == 200
    assert (await factory.reload(Product, product.id)).stock == 5

    refund = await client.post(
        f"{ORDERS}/{order['id']}/refunds", json={"reason": "Cancelled", "restock": True}, headers=staff.headers
    )

    assert refund.status_code == 201, refund.text
    assert refund.json()["restocked"] is False
    assert (await factory.reload(Product, product.id)).stock == 5
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=staff.headers)).json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "0", "reason": "x"},
        {"amount": "-5", "reason": "x"},
        {"amount": "1.234", "reason": "x"},
        {"amount": "10.00"},
        {"reason": ""},
        {"reason": "x" * 501},
        {"reason": "x", "restock": "yes"},
        {"reason": "x", "refund_everything": True},
    ],
)
async def test_a_bad_refund_request_is_422_and_refunds_nothing(
    client: AsyncClient, factory: Factory, body: dict[str, Any]
) -> None:
    order, _ = await paid_order(client, factory)
    staff = await factory.staff()

    response = await client.post(f"{ORDERS}/{order['id']}/refunds", json=body, headers=staff.headers)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert await count(factory.database, select(func.count()).select_from(Refund)) == 0


async def test_refunds_of_an_order_are_hidden_from_other_customers(client: AsyncClient, factory: Factory) -> None:
    order, _ = await paid_order(client, factory)
    other = await factory.customer()

    response = await client.get(f"{ORDERS}/{order['id']}/refunds", headers=other.headers)

    assert (response.status_code, response.json()["code"]) == (404, "order_not_found")


async def test_the_stripe_webhook_on_a_shop_without_stripe_is_404(client: AsyncClient) -> None:
    response = await client.post(
        "/api/v1/payments/stripe/webhook", content=b"{}", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "stripe_not_configured"
