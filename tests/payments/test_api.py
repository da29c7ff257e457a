"""An order's payment through the API: started when the order is placed, read by whoever may
read the order, moved on by the order's status, and a provider failure that leaves nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select

from storefront.config import PaymentProviderName, Settings
from storefront.context import context_of
from storefront.database import Database
from storefront.db import utcnow
from storefront.main import create_app
from storefront.models import Email, Event, Order, Product
from storefront.payments.errors import PaymentProviderUnavailable
from storefront.payments.provider import PaymentRequest, RefundRequest, StartedPayment, StartedRefund
from tests.factories import Actor, Factory

ORDERS = "/api/v1/orders"
PAYMENT_FIELDS = {
    "provider",
    "status",
    "amount",
    "currency",
    "provider_reference",
    "refunded_total",
    "failure_reason",
    "updated_at",
}


async def place(client: AsyncClient, buyer: Actor, product: Product, **headers: str) -> Any:
    return await client.post(
        ORDERS, json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=buyer.headers | headers
    )


async def test_placing_an_order_starts_its_manual_payment(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)

    before = utcnow()
    response = await place(client, buyer, product)
    after = utcnow()

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending"
    payment = order["payment"]
    assert (payment["provider"], payment["status"], payment["client_secret"]) == ("manual", "requires_action", None)
    assert f"#{order['id']}" in payment["instructions"]
    assert "bank transfer" in payment["instructions"]
    due = datetime.fromisoformat(order["payment_due_at"])
    assert before + timedelta(days=7) <= due <= after + timedelta(days=7)
    assert due.utcoffset() == timedelta(0)


async def test_the_payment_of_an_order_is_for_whoever_may_read_the_order(client: AsyncClient, factory: Factory) -> None:
    buyer, other, staff, admin = (
        await factory.customer(),
        await factory.customer(),
        await factory.staff(),
        await factory.admin(),
    )
    order = (await place(client, buyer, await factory.product(price=Decimal("12.50")))).json()
    url = f"{ORDERS}/{order['id']}/payment"

    mine = await client.get(url, headers=buyer.headers)

    assert mine.status_code == 200
    assert mine.headers["Cache-Control"] == "no-store"
    body = mine.json()
    assert body.keys() == PAYMENT_FIELDS
    assert {key: body[key] for key in PAYMENT_FIELDS - {"updated_at"}} == {
        "provider": "manual",
        "status": "requires_action",
        "amount": "25.00",
        "currency": "EUR",
        "provider_reference": f"ORDER-{order['id']}",
        "refunded_total": "0.00",
        "failure_reason": None,
    }
    assert (await client.get(url, headers=staff.headers)).json() == body
    assert (await client.get(url, headers=admin.headers)).json() == body
    hidden = await client.get(url, headers=other.headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "order_not_found")
    assert (await client.get(f"{ORDERS}/999999/payment", headers=buyer.headers)).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_staff_recording_the_payment_makes_it_succeeded(client: AsyncClient, factory: Factory) -> None:
    buyer, staff = await factory.customer(), await factory.staff()
    order = (await place(client, buyer, await factory.product())).json()
    url = f"{ORDERS}/{order['id']}/payment"
    before = (await client.get(url, headers=buyer.headers)).json()

    paid = await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "paid"}, headers=staff.headers)

    assert paid.status_code == 200
    assert paid.json()["payment"]["status"] == "succeeded"
    after = (await client.get(url, headers=buyer.headers)).json()
    assert after["status"] == "succeeded"
    assert after["updated_at"] > before["updated_at"]
    # Shipping it, or cancelling it once paid, leaves the money where it is.
    await client.post(f"{ORDERS}/{order['id']}/status", json={"status": "cancelled"}, headers=staff.headers)
    assert (await client.get(url, headers=buyer.headers)).json()["status"] == "succeeded"


async def test_cancelling_an_unpaid_order_ends_its_payment(client: AsyncClient, factory: Factory) -> None:
    buyer = await factory.customer()
    order = (await place(client, buyer, await factory.product())).json()

    cancelled = await client.post(f"{ORDERS}/{order['id']}/cancel", headers=buyer.headers)

    assert cancelled.json()["payment"]["status"] == "failed"
    assert (await client.get(f"{ORDERS}/{order['id']}/payment", headers=buyer.headers)).json()["status"] == "failed"


async def test_an_order_from_before_payments_has_none(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    buyer = await factory.customer()
    async with database.transaction() as session:
        old = Order(user_id=buyer.id, status="pending", subtotal=5, total=5, currency="EUR", items=[])
        session.add(old)

    read = await client.get(f"{ORDERS}/{old.id}", headers=buyer.headers)
    payment = await client.get(f"{ORDERS}/{old.id}/payment", headers=buyer.headers)

    assert read.status_code == 200
    assert (read.json()["payment"], read.json()["payment_due_at"]) == (None, None)
    assert (payment.status_code, payment.json()["code"]) == (404, "payment_not_found")


@dataclasses.dataclass
class Unavailable:
    """A provider that cannot be reached."""

    calls: list[PaymentRequest] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> PaymentProviderName:
        return PaymentProviderName.manual

    async def start(self, request: PaymentRequest) -> StartedPayment:
        self.calls.append(request)
        raise PaymentProviderUnavailable()

    async def discard(self, reference: str | None) -> None:
        raise AssertionError("nothing was started")

    async def refund(self, request: RefundRequest) -> StartedRefund:
        raise PaymentProviderUnavailable()

    async def close(self) -> None:
        pass


@pytest.fixture
async def unavailable(settings: Settings, database: Database) -> AsyncIterator[tuple[AsyncClient, Unavailable]]:
    app = create_app(settings)
    provider = Unavailable()
    app.state.context = dataclasses.replace(context_of(app), payments=provider)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, provider


async def test_a_provider_that_fails_leaves_no_order_and_no_stock_taken(
    unavailable: tuple[AsyncClient, Unavailable], client: AsyncClient, factory: Factory, database: Database
) -> None:
    down, provider = unavailable
    buyer = await factory.customer()
    product = await factory.product(stock=5)

    refused = await place(down, buyer, product, **{"Idempotency-Key": "once"})

    assert refused.status_code == 502
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "payment_provider_unavailable"
    [request] = provider.calls
    assert (request.amount_minor, request.currency, request.customer_email) == (2000, "EUR", buyer.user.email)
    assert request.idempotency_key.startswith(f"storefront-order-{request.order_id}-")
    assert (await factory.reload(Product, product.id)).stock == 5
    async with database.read_session() as session:
        for model in (Order, Email, Event):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model
    # Nothing was stored under the key either: the retry, with the provider back, places the order.
    retried = await place(client, buyer, product, **{"Idempotency-Key": "once"})
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
