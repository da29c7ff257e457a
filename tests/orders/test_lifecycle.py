"""Order status machine, cancellation, who sees what, conditional requests."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from storefront.models import Order, Product
from tests.factories import Actor, Factory

ORDERS = "/api/v1/orders"


async def place(client: AsyncClient, buyer: Actor, product: Product, quantity: int = 2) -> dict[str, Any]:
    response = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": quantity}]}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_status(client: AsyncClient, actor: Actor, order_id: int, status: str) -> Any:
    return await client.post(f"{ORDERS}/{order_id}/status", json={"status": status}, headers=actor.headers)


async def test_staff_moves_an_order_through_its_lifecycle(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    order = await place(client, buyer, await factory.product())

    for status in ("paid", "shipped", "delivered"):
        response = await set_status(client, staff, order["id"], status)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
    assert (await factory.reload(Order, order["id"])).status == "delivered"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], "shipped"),
        ([], "delivered"),
        ([], "pending"),
        (["paid"], "paid"),
        (["paid"], "pending"),
        (["paid", "shipped"], "cancelled"),
        (["paid", "shipped", "delivered"], "cancelled"),
        (["cancelled"], "paid"),
    ],
)
async def test_other_transitions_are_409(client: AsyncClient, factory: Factory, path: list[str], target: str) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    order = await place(client, buyer, await factory.product())
    for status in path:
        assert (await set_status(client, staff, order["id"], status)).status_code == 200

    response = await set_status(client, staff, order["id"], target)

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert (await factory.reload(Order, order["id"])).status == (path[-1] if path else "pending")


async def test_unknown_status_is_422(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    order = await place(client, buyer, await factory.product())
    response = await set_status(client, staff, order["id"], "teleported")
    assert response.status_code == 422


async def test_customers_cannot_change_status(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    order = await place(client, buyer, await factory.product())
    response = await set_status(client, buyer, order["id"], "paid")
    assert response.status_code == 403
    assert (await factory.reload(Order, order["id"])).status == "pending"


async def test_owner_cancels_a_pending_order_and_stock_returns(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product, quantity=3)
    assert (await factory.reload(Product, product.id)).stock == 2

    response = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=buyer.headers)

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert (await factory.reload(Product, product.id)).stock == 5
    again = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=buyer.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert (await factory.reload(Product, product.id)).stock == 5


async def test_owner_cannot_cancel_a_paid_order_but_staff_can(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product, quantity=2)
    await set_status(client, staff, order["id"], "paid")

    refused = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=buyer.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert (await factory.reload(Product, product.id)).stock == 3

    cancelled = await set_status(client, staff, order["id"], "cancelled")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert (await factory.reload(Product, product.id)).stock == 5


async def test_another_customers_order_is_404_everywhere(client: AsyncClient, factory: Factory) -> None:
    alice, mallory = await factory.customer(), await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, alice, product)
    url = f"{ORDERS}/{order['id']}"

    assert (await client.get(url, headers=mallory.headers)).status_code == 404
    cancel = await client.post(f"{url}/cancel", headers=mallory.headers)
    assert cancel.status_code == 404
    assert cancel.json()["code"] == "order_not_found"
    listing = await client.get(ORDERS, headers=mallory.headers)
    assert listing.json() == []
    assert listing.headers["X-Total-Count"] == "0"
    # Filtering by someone else's id shows a customer nothing more.
    filtered = await client.get(ORDERS, params={"user_id": alice.id}, headers=mallory.headers)
    assert filtered.json() == []
    assert (await factory.reload(Order, order["id"])).status == "pending"
    assert (await factory.reload(Product, product.id)).stock == 3
    # And an order that does not exist looks the same as one that is not yours.
    assert (await client.get(f"{ORDERS}/999999", headers=mallory.headers)).json()["code"] == "order_not_found"


async def test_staff_see_all_orders_and_filter(client: AsyncClient, factory: Factory) -> None:
    alice, bob, staff = await factory.customer(), await factory.customer(), await factory.staff()
    product = await factory.product(stock=50)
    a1 = await place(client, alice, product, 1)
    await place(client, alice, product, 1)
    b1 = await place(client, bob, product, 1)
    await set_status(client, staff, b1["id"], "paid")

    everything = await client.get(ORDERS, headers=staff.headers)
    assert everything.headers["X-Total-Count"] == "3"
    only_alice = await client.get(ORDERS, params={"user_id": alice.id, "sort": "id"}, headers=staff.headers)
    assert [o["user_id"] for o in only_alice.json()] == [alice.id, alice.id]
    assert only_alice.json()[0]["id"] == a1["id"]
    paid = await client.get(ORDERS, params={"status": "paid"}, headers=staff.headers)
    assert [o["id"] for o in paid.json()] == [b1["id"]]
    own = await client.get(ORDERS, headers=alice.headers)
    assert {o["user_id"] for o in own.json()} == {alice.id}
    assert own.headers["X-Total-Count"] == "2"


async def test_order_list_paging_and_sort_validation(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=50)
    ids = [(await place(client, buyer, product, 1))["id"] for _ in range(3)]

    first = await client.get(ORDERS, params={"limit": 2, "sort": "id"}, headers=buyer.headers)
    assert [o["id"] for o in first.json()] == ids[:2]
    assert 'rel="next"' in first.headers["Link"]
    assert (await client.get(ORDERS, params={"sort": "password"}, headers=buyer.headers)).status_code == 422
    assert (await client.get(ORDERS, params={"limit": 101}, headers=buyer.headers)).status_code == 422


async def test_order_etag_and_conditional_requests(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    order = await place(client, buyer, await factory.product())
    url = f"{ORDERS}/{order['id']}"

    first = await client.get(url, headers=buyer.headers)
    etag = first.headers["ETag"]
    cached = await client.get(url, headers=buyer.headers | {"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""

    paid = await client.post(f"{url}/status", json={"status": "paid"}, headers=staff.headers | {"If-Match": etag})
    assert paid.status_code == 200
    assert paid.headers["ETag"] != etag

    stale = await client.post(f"{url}/cancel", headers=staff.headers | {"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert (await factory.reload(Order, order["id"])).status == "paid"
    assert (await client.get(url, headers=buyer.headers | {"If-None-Match": etag})).status_code == 200
