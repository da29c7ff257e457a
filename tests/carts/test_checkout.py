"""Checkout: a cart becomes an order by the rules of `POST /orders`, once, whatever the concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Cart, CartItem, Email, Event, Order, Product
from storefront.models.rules import Discount, DiscountCustomerUse
from storefront.orders import expiry
from tests.factories import Actor, Factory
from tests.orders.test_expiry import other_database, overdue

__all__ = ["other_database"]  # the fixture: a second worker's engine

ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}


async def cart_with(client: AsyncClient, owner: Actor, *lines: tuple[Product, int]) -> str:
    """A new cart of `owner`'s holding these lines: its token."""
    created = await client.post("/api/v1/carts", headers=owner.headers)
    assert created.status_code == 201, created.text
    token = str(created.json()["id"])
    for product, quantity in lines:
        put = await client.put(
            f"/api/v1/carts/{token}/items/{product.id}", json={"quantity": quantity}, headers=owner.headers
        )
        assert put.status_code == 200, put.text
    return token


async def checkout(client: AsyncClient, owner: Actor, token: str, **headers: str) -> Any:
    return await client.post(f"/api/v1/carts/{token}/checkout", headers={**owner.headers, **headers})


async def scalar(database: Database, statement: Any) -> Any:
    async with database.read_session() as session:
        return await session.scalar(statement)


async def test_a_checkout_charges_what_the_cart_showed(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    mug = await factory.product(name="Mug", price=Decimal("19.99"), stock=5)
    await factory.discount("WELCOME10", kind="percent", value=Decimal(10))
    await factory.shipping_method("standard", price=Decimal("4.90"), free_over=Decimal("100.00"), countries=["DE"])
    await factory.tax_rate("DE", Decimal(19))
    token = await cart_with(client, buyer, (mug, 3))
    url = f"/api/v1/carts/{token}"
    await client.put(f"{url}/discount", json={"code": "welcome10"}, headers=buyer.headers)
    shown = (
        await client.put(f"{url}/shipping", json={"address": ADDRESS, "method": "standard"}, headers=buyer.headers)
    ).json()

    response = await checkout(client, buyer, token)

    assert response.status_code == 201, response.text
    order = response.json()
    # 3 x 19.99 = 59.97; 10 % off, 6.00; shipping 4.90; tax included: 19/119 of 53.97 and of 4.90.
    assert (shown["subtotal"], shown["discount_total"], shown["shipping_total"]) == ("59.97", "6.00", "4.90")
    assert (shown["tax_total"], shown["total"]) == ("9.40", "58.87")
    for field in ("subtotal", "discount_total", "shipping_total", "tax_total", "total", "discount_code"):
        assert order[field] == shown[field], field
    assert (order["discount_code"], order["shipping_method"]) == ("WELCOME10", "standard")
    assert order["shipping_address"]["country"] == "DE"
    assert order["payment"]["provider"] == "manual"
    assert order["payment"]["status"] == "requires_action"
    assert response.headers["Location"] == f"/api/v1/orders/{order['id']}"
    emptied = (await client.get(url, headers=buyer.headers)).json()
    assert emptied["items"] == []
    assert (await factory.reload(Product, mug.id)).stock == 2
    assert await scalar(database, select(Discount.used)) == 1
    [email] = [e for e in await _all(database, Email) if e.kind == "order_confirmation"]
    for amount in ("59.97", "6.00", "4.90", "9.40", "58.87"):
        assert amount in email.body_text
    created = [e for e in await _all(database, Event) if e.type == "order.created"]
    assert [e.data["order_id"] for e in created] == [order["id"]]


async def _all(database: Database, model: type[Any]) -> list[Any]:
    async with database.read_session() as session:
        return list(await session.scalars(select(model)))


async def test_fifty_checkouts_for_the_last_ten_units_sell_exactly_ten(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    product = await factory.product(stock=10)
    buyers = [await factory.customer() for _ in range(5)]
    carts = [(buyer, await cart_with(client, buyer, (product, 1))) for buyer in buyers for _ in range(10)]

    responses = await asyncio.gather(*(checkout(client, buyer, token) for buyer, token in carts))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * 10 + [409] * 40
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_stock"}
    assert (await factory.reload(Product, product.id)).stock == 0
    assert await scalar(database, select(func.count()).select_from(Order)) == 10
    # The refused carts keep their lines: nothing of theirs changed.
    assert await scalar(database, select(func.count()).select_from(CartItem)) == 40


async def test_fifty_checkouts_with_a_code_for_five_apply_it_five_times(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    product = await factory.product(stock=1000)
    await factory.discount("FIVE", kind="fixed", value=Decimal("1.00"), max_uses=5)
    buyers = [await factory.customer() for _ in range(50)]
    carts = []
    for buyer in buyers:
        token = await cart_with(client, buyer, (product, 1))
        applied = await client.put(f"/api/v1/carts/{token}/discount", json={"code": "FIVE"}, headers=buyer.headers)
        assert applied.status_code == 200, applied.text
        carts.append((buyer, token))

    responses = await asyncio.gather(*(checkout(client, buyer, token) for buyer, token in carts))

    assert sorted(r.status_code for r in responses) == [201] * 5 + [422] * 45
    assert {r.json()["reason"] for r in responses if r.status_code == 422} == {"used_up"}
    assert await scalar(database, select(Discount.used)) == 5
    assert await scalar(database, select(func.count()).where(Order.discount_code == "FIVE")) == 5
    assert await scalar(database, select(func.sum(DiscountCustomerUse.uses))) == 5
    assert (await factory.reload(Product, product.id)).stock == 995  # the refused ones took nothing


async def test_a_replayed_checkout_makes_one_order(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    token = await cart_with(client, buyer, (product, 2))

    first = await checkout(client, buyer, token, **{"Idempotency-Key": "k-1"})
    again = await checkout(client, buyer, token, **{"Idempotency-Key": "k-1"})
    without = await checkout(client, buyer, token)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (without.status_code, without.json()["code"]) == (409, "cart_checked_out")
    assert await scalar(database, select(func.count()).select_from(Order)) == 1
    assert (await factory.reload(Product, product.id)).stock == 3


async def test_concurrent_checkouts_of_one_cart_make_one_order(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=100)
    token = await cart_with(client, buyer, (product, 1))

    responses = await asyncio.gather(*(checkout(client, buyer, token) for _ in range(10)))

    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    assert await scalar(database, select(func.count()).select_from(Order)) == 1
    assert (await factory.reload(Product, product.id)).stock == 99


async def test_an_anonymous_cart_is_bound_to_whoever_checks_it_out(client: AsyncClient, factory: Factory) -> None:
    buyer, other = await factory.customer(), await factory.customer()
    product = await factory.product()
    token = (await client.post("/api/v1/carts")).json()["id"]
    await client.put(f"/api/v1/carts/{token}/items/{product.id}", json={"quantity": 1})

    anonymous = await client.post(f"/api/v1/carts/{token}/checkout")
    placed = await checkout(client, buyer, token)

    assert anonymous.status_code == 401
    assert placed.status_code == 201
    assert placed.json()["user_id"] == buyer.id
    assert (await client.get(f"/api/v1/carts/{token}")).status_code == 404  # now the buyer's alone
    assert (await checkout(client, other, token)).status_code == 404


async def test_refused_checkouts_change_nothing(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer, other = await factory.customer(), await factory.customer()
    product = await factory.product(stock=5)
    empty = await cart_with(client, buyer)
    theirs = await cart_with(client, other, (product, 1))
    expired = await cart_with(client, buyer, (product, 1))
    await factory.discount("SOON-OVER", ends_at=utcnow() + timedelta(seconds=2))
    assert (
        await client.put(f"/api/v1/carts/{expired}/discount", json={"code": "SOON-OVER"}, headers=buyer.headers)
    ).status_code == 200
    async with database.transaction() as session:
        discount = await session.scalar(select(Discount))
        assert discount is not None
        discount.ends_at = utcnow() - timedelta(seconds=1)

    cases = [
        (empty, 422, "cart_empty"),
        (theirs, 404, "cart_not_found"),
        (expired, 422, "invalid_discount"),
    ]
    for token, status, code in cases:
        response = await checkout(client, buyer, token)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await scalar(database, select(func.count()).select_from(Order)) == 0
    assert (await factory.reload(Product, product.id)).stock == 5
    assert await scalar(database, select(func.count()).select_from(CartItem)) == 2
    assert await scalar(database, select(func.count()).where(Cart.order_id.is_not(None))) == 0


async def test_bad_discount_and_shipping_are_refused_on_the_cart(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(price=Decimal("10.00"))
    await factory.discount("OLD", ends_at=utcnow() - timedelta(days=1))
    await factory.discount("GONE", max_uses=1, used=1)
    await factory.discount("BIG-BASKETS", min_subtotal=Decimal("50.00"))
    await factory.shipping_method("standard", countries=["DE"])
    token = await cart_with(client, buyer, (product, 1))
    url = f"/api/v1/carts/{token}"
    cases: list[tuple[str, dict[str, Any], str, str | None]] = [
        ("discount", {"code": "NOPE"}, "invalid_discount", "unknown"),
        ("discount", {"code": "OLD"}, "invalid_discount", "expired"),
        ("discount", {"code": "GONE"}, "invalid_discount", "used_up"),
        ("discount", {"code": "BIG-BASKETS"}, "invalid_discount", "below_min_subtotal"),
        ("shipping", {"address": {**ADDRESS, "country": "US"}, "method": "standard"}, "shipping_unavailable", None),
        ("shipping", {"address": {**ADDRESS, "country": "XX"}, "method": "standard"}, "validation_error", None),
        ("shipping", {"address": ADDRESS, "method": "teleport"}, "shipping_unavailable", None),
        ("shipping", {"address": {**ADDRESS, "city": ""}, "method": "standard"}, "validation_error", None),
    ]
    for part, body, code, reason in cases:
        response = await client.put(f"{url}/{part}", json=body, headers=buyer.headers)
        assert (response.status_code, response.json()["code"]) == (422, code), (body, response.text)
        if reason is not None:
            assert response.json()["reason"] == reason
    cart = (await client.get(url, headers=buyer.headers)).json()
    assert (cart["discount_code"], cart["shipping_method"], cart["shipping_address"]) == (None, None, None)


async def test_post_orders_takes_the_same_rules(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(price=Decimal("30.00"), stock=5)
    await factory.discount("FIVEOFF", kind="fixed", value=Decimal("5.00"), min_subtotal=Decimal("25.00"))
    await factory.shipping_method("standard", price=Decimal("4.90"), countries=["DE"])
    body = {
        "items": [{"product_id": product.id, "quantity": 1}],
        "shipping_address": ADDRESS,
        "shipping_method": "standard",
        "discount_code": "fiveoff",
    }

    placed = await client.post("/api/v1/orders", json=body, headers=buyer.headers)
    no_address = await client.post("/api/v1/orders", json={**body, "shipping_address": None}, headers=buyer.headers)

    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert (order["subtotal"], order["discount_total"], order["shipping_total"], order["total"]) == (
        "30.00",
        "5.00",
        "4.90",
        "29.90",
    )
    assert no_address.status_code == 422
    assert await scalar(database, select(Discount.used)) == 1


async def test_an_expired_order_gives_back_its_stock_and_discount_use_once_with_two_workers(
    client: AsyncClient, factory: Factory, database: Database, other_database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    await factory.discount("ONCE", max_uses=1, max_uses_per_customer=1)
    token = await cart_with(client, buyer, (product, 3))
    await client.put(f"/api/v1/carts/{token}/discount", json={"code": "ONCE"}, headers=buyer.headers)
    order = (await checkout(client, buyer, token)).json()
    assert await scalar(database, select(Discount.used)) == 1
    await overdue(database, order["id"])

    first, second = await asyncio.gather(expiry.cancel_unpaid(database), expiry.cancel_unpaid(other_database))
    again = await expiry.cancel_unpaid(database)

    assert sorted(first + second) == [order["id"]]
    assert again == []
    assert (await factory.reload(Product, product.id)).stock == 10
    assert await scalar(database, select(Discount.used)) == 0
    assert await scalar(database, select(DiscountCustomerUse.uses)) == 0
    # The use given back can be used again.
    retry = await cart_with(client, buyer, (product, 1))
    reapplied = await client.put(f"/api/v1/carts/{retry}/discount", json={"code": "ONCE"}, headers=buyer.headers)
    assert reapplied.status_code == 200
    assert (await checkout(client, buyer, retry)).status_code == 201
