"""The payment deadline: an order unpaid past `payment_due_at` is cancelled exactly once,
whatever the number of workers, and a worker that fails half-way changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update

from storefront.config import Settings
from storefront.context import AppContext, JobSignal
from storefront.database import Database
from storefront.db import utcnow
from storefront.models import Email, Event, Order, Payment, PaymentStatus, Product
from storefront.orders import expiry, notify, repository, service
from storefront.worker import Worker
from tests.factories import Actor, Factory

ORDERS = "/api/v1/orders"


async def place(client: AsyncClient, buyer: Actor, product: Product, quantity: int = 2) -> dict[str, Any]:
    response = await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": quantity}]}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def overdue(database: Database, *order_ids: int, by: timedelta = timedelta(minutes=1)) -> None:
    """As if the payment deadline of these orders had passed `by` ago."""
    async with database.transaction() as session:
        await session.execute(update(Order).where(Order.id.in_(order_ids)).values(payment_due_at=utcnow() - by))


async def stock(factory: Factory, product: Product) -> int:
    return int((await factory.reload(Product, product.id)).stock)


async def outbox(database: Database, order_id: int) -> tuple[list[Email], list[Event]]:
    """The `order_expired` emails and the cancellations (`order.status_changed`) of one order."""
    async with database.read_session() as session:
        emails = [
            e for e in await session.scalars(select(Email)) if e.kind == "order_expired" and f"#{order_id}" in e.subject
        ]
        events = [
            e
            for e in await session.scalars(select(Event).where(Event.type == "order.status_changed"))
            if e.data["order_id"] == order_id and e.data["status"] == "cancelled"
        ]
    return emails, events


async def payment_status(database: Database, order_id: int) -> str:
    async with database.read_session() as session:
        return str(await session.scalar(select(Payment.status).where(Payment.order_id == order_id)))


@pytest.fixture
async def other_database(settings: Settings) -> AsyncIterator[Database]:
    """A second process's database: its own engine and connection pool."""
    context = AppContext.create(settings)
    yield context.database
    await context.stop()


async def test_an_overdue_order_is_cancelled_its_stock_returned_and_its_customer_told(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer(full_name="Ada Lovelace")
    product = await factory.product(stock=5)
    order = await place(client, buyer, product, quantity=3)
    etag = (await client.get(f"{ORDERS}/{order['id']}", headers=buyer.headers)).headers["ETag"]
    assert await stock(factory, product) == 2
    await overdue(database, order["id"])

    assert await expiry.cancel_unpaid(database) == [order["id"]]

    after = await client.get(f"{ORDERS}/{order['id']}", headers=buyer.headers)
    assert after.json()["status"] == "cancelled"
    assert after.json()["payment"]["status"] == "failed"
    assert after.headers["ETag"] != etag
    assert await stock(factory, product) == 5
    [email], [event] = await outbox(database, order["id"])
    assert email.to == buyer.user.email
    assert email.subject == f"Your order #{order['id']} was cancelled: no payment arrived in time"
    assert "Ada Lovelace" in email.body_text
    assert event.data == {
        "order_id": order["id"],
        "user_id": buyer.id,
        "status": "cancelled",
        "previous_status": "pending",
        "total": order["total"],
        "currency": "EUR",
    }
    # Done once: the next run finds nothing.
    assert await expiry.cancel_unpaid(database) == []
    assert await stock(factory, product) == 5


async def test_racing_workers_cancel_each_order_once_and_return_its_stock_once(
    client: AsyncClient,
    factory: Factory,
    database: Database,
    other_database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=100)
    claims: list[bool] = []
    claim = repository.claim_unpaid

    async def counted(*args: Any) -> bool:
        claims.append(await claim(*args))
        return claims[-1]

    monkeypatch.setattr(repository, "claim_unpaid", counted)
    for _ in range(5):
        orders = [(await place(client, buyer, product, quantity=2))["id"] for _ in range(4)]
        await overdue(database, *orders)
        assert await stock(factory, product) == 92

        first, second = await asyncio.gather(expiry.cancel_unpaid(database), expiry.cancel_unpaid(other_database))

        assert sorted(first + second) == orders
        assert not set(first) & set(second)
        assert await stock(factory, product) == 100
        for order_id in orders:
            emails, events = await outbox(database, order_id)
            assert (len(emails), len(events)) == (1, 1), order_id
            assert await payment_status(database, order_id) == PaymentStatus.failed
    # They did race: both found the orders due, and the loser's claims changed nothing.
    assert claims.count(True) == 20
    assert claims.count(False) > 0


async def claim(database: Database, order_id: int) -> bool:
    async with database.transaction() as uow:
        return await service.expire(uow, order_id, utcnow()) is not None


async def test_racing_claims_of_one_order_cancel_it_once(
    client: AsyncClient, factory: Factory, database: Database, other_database: Database
) -> None:
    """Two workers that both found the same order due: one claim changes it, the other finds it gone."""
    buyer = await factory.customer()
    product = await factory.product(stock=50)
    for _ in range(5):
        order = await place(client, buyer, product, quantity=5)
        await overdue(database, order["id"])

        claims = await asyncio.gather(claim(database, order["id"]), claim(other_database, order["id"]))

        assert sorted(claims) == [False, True]
        assert await stock(factory, product) == 50
        emails, events = await outbox(database, order["id"])
        assert (len(emails), len(events)) == (1, 1)


async def test_a_paid_order_past_its_due_time_is_never_cancelled(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product)
    paid = await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "paid"}, headers=staff.headers)
    assert paid.status_code == 200
    await overdue(database, order["id"], by=timedelta(days=30))

    assert await expiry.cancel_unpaid(database) == []

    assert (await factory.reload(Order, order["id"])).status == "paid"
    assert await payment_status(database, order["id"]) == PaymentStatus.succeeded
    assert await stock(factory, product) == 3
    assert await outbox(database, order["id"]) == ([], [])


async def test_an_order_not_yet_due_is_untouched(client: AsyncClient, factory: Factory, database: Database) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product)
    before = await factory.reload(Order, order["id"])

    assert await expiry.cancel_unpaid(database) == []
    assert await expiry.cancel_unpaid(database, now=utcnow() + timedelta(days=6)) == []

    after = await factory.reload(Order, order["id"])
    assert (after.status, after.version, after.updated_at) == ("pending", before.version, before.updated_at)
    assert await payment_status(database, order["id"]) == PaymentStatus.requires_action
    assert await stock(factory, product) == 3


async def test_orders_cancelled_otherwise_are_left_alone(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product)
    assert (await client.post(f"{ORDERS}/{order['id']}/cancel", headers=buyer.headers)).status_code == 200
    await overdue(database, order["id"])

    assert await expiry.cancel_unpaid(database) == []

    assert await stock(factory, product) == 5  # returned once, by the customer's cancellation
    assert await payment_status(database, order["id"]) == PaymentStatus.failed


async def test_a_worker_that_fails_after_the_claim_leaves_the_order_for_the_next_run(
    client: AsyncClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product, quantity=4)
    await overdue(database, order["id"])

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the worker died before committing")

    # After the claim and the stock's return, before the commit.
    with monkeypatch.context() as patched:
        patched.setattr(notify, "status_changed", crash)
        assert await expiry.cancel_unpaid(database) == []

    stored = await factory.reload(Order, order["id"])
    assert stored.status == "pending"
    assert await stock(factory, product) == 1
    assert await payment_status(database, order["id"]) == PaymentStatus.requires_action
    assert await outbox(database, order["id"]) == ([], [])

    assert await expiry.cancel_unpaid(database) == [order["id"]]

    assert (await factory.reload(Order, order["id"])).status == "cancelled"
    assert await stock(factory, product) == 5
    emails, events = await outbox(database, order["id"])
    assert (len(emails), len(events)) == (1, 1)


async def test_one_failing_order_does_not_hold_up_the_others(
    client: AsyncClient, factory: Factory, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=10)
    stuck, fine = (await place(client, buyer, product))["id"], (await place(client, buyer, product))["id"]
    await overdue(database, stuck, by=timedelta(hours=2))  # the longest overdue: tried first
    await overdue(database, fine)
    expire = service.expire

    async def fails_for_one(uow: Any, order_id: int, now: Any) -> Any:
        if order_id == stuck:
            raise RuntimeError("cannot cancel this one")
        return await expire(uow, order_id, now)

    monkeypatch.setattr(service, "expire", fails_for_one)

    assert await expiry.cancel_unpaid(database) == [fine]
    assert (await factory.reload(Order, stuck)).status == "pending"


async def test_the_worker_cancels_overdue_orders_on_its_own(
    client: AsyncClient, factory: Factory, database: Database, settings: Settings
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    order = await place(client, buyer, product)
    await overdue(database, order["id"])
    worker = Worker(database, settings, JobSignal())

    task = asyncio.create_task(worker.run())
    try:
        for _ in range(100):
            if (await factory.reload(Order, order["id"])).status == "cancelled":
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop(task)

    assert (await factory.reload(Order, order["id"])).status == "cancelled"
    assert await stock(factory, product) == 5


async def test_a_payment_recorded_while_the_deadline_passes_wins_or_loses_whole(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    """Staff marking an order paid as the worker cancels it: one of the two happens, entirely."""
    buyer, staff = await factory.customer(), await factory.staff()
    product = await factory.product(stock=100)
    for _ in range(5):
        order = await place(client, buyer, product, quantity=2)
        await overdue(database, order["id"])
        before = await stock(factory, product)

        paid, cancelled = await asyncio.gather(
            client.post(f"{ORDERS}/{order['id']}/status", json={"status": "paid"}, headers=staff.headers),
            expiry.cancel_unpaid(database),
        )

        stored = await factory.reload(Order, order["id"])
        if cancelled:
            assert (paid.status_code, paid.json()["code"]) == (409, "invalid_transition")
            assert (stored.status, await stock(factory, product)) == ("cancelled", before + 2)
            assert await payment_status(database, order["id"]) == PaymentStatus.failed
        else:
            assert paid.status_code == 200, paid.text
            assert (stored.status, await stock(factory, product)) == ("paid", before)
            assert await payment_status(database, order["id"]) == PaymentStatus.succeeded
