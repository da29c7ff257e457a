"""Card payments through Stripe, against a Stripe double served over real HTTP: checkout starts a
PaymentIntent, the signed webhook is applied exactly once and never backwards, refunds count
atomically, and an outage takes no stock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select

from storefront.config import Settings
from storefront.database import Database
from storefront.db import utcnow
from storefront.main import create_app
from storefront.models import Email, Event, Order, Payment, Product, ProviderEvent, Refund
from storefront.orders import expiry
from tests.factories import Actor, Factory
from tests.payments.stripe_double import API_KEY, WEBHOOK_SECRET, StripeDouble, event, sign

HOOK = "/api/v1/payments/stripe/webhook"


@pytest.fixture
def stripe_double() -> Iterator[StripeDouble]:
    double = StripeDouble().start()
    yield double
    double.stop()


@pytest.fixture
def stripe_settings(settings: Settings, stripe_double: StripeDouble) -> Settings:
    stripe = {
        "payment_provider": "stripe",
        "stripe_api_key": API_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
        "stripe_api_base": stripe_double.url,
        "stripe_timeout_seconds": 1.0,
        "stripe_max_network_retries": 1,
    }
    return Settings(**settings.model_dump(exclude=set(stripe)) | stripe)


@pytest.fixture
async def shop(stripe_settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(stripe_settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@dataclass
class Placed:
    order: dict[str, Any]
    intent: dict[str, Any]
    buyer: Actor
    product: Product


async def place(shop: AsyncClient, factory: Factory, double: StripeDouble, quantity: int = 2) -> Placed:
    buyer = await factory.customer()
    product = await factory.product(price=Decimal("12.50"), stock=5)
    response = await shop.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": quantity}]}, headers=buyer.headers
    )
    assert response.status_code == 201, response.text
    order = response.json()
    intent = double.intents[(await payment_row(factory.database, order["id"])).provider_reference or ""]
    return Placed(order, intent, buyer, product)


async def payment_row(database: Database, order_id: int) -> Payment:
    async with database.read_session() as session:
        return (await session.scalars(select(Payment).where(Payment.order_id == order_id))).one()


async def deliver(shop: AsyncClient, type_: str, obj: dict[str, Any], **kwargs: Any) -> Response:
    payload = event(type_, obj, event_id=kwargs.pop("event_id", None))
    return await shop.post(HOOK, content=payload, headers=sign(payload, **kwargs))


def paid(intent: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return intent | {"status": "succeeded", "amount_received": intent["amount"]} | changes


async def count(database: Database, query: Any) -> int:
    async with database.read_session() as session:
        return int(await session.scalar(query) or 0)


async def order_status(database: Database, order_id: int) -> str:
    async with database.read_session() as session:
        return str(await session.scalar(select(Order.status).where(Order.id == order_id)))


async def test_checkout_creates_a_payment_intent_and_returns_its_client_secret(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)

    payment = placed.order["payment"]
    assert payment["provider"] == "stripe"
    assert payment["status"] == "requires_payment"
    assert payment["client_secret"] == placed.intent["client_secret"]
    assert placed.intent["amount"] == 2500
    assert placed.intent["currency"] == "eur"
    assert placed.intent["metadata"] == {"order_id": str(placed.order["id"])}
    (call,) = stripe_double.calls_to("/v1/payment_intents")
    assert call.idempotency_key is not None
    assert call.idempotency_key.startswith(f"storefront-order-{placed.order['id']}-")
    due = placed.order["payment_due_at"]
    assert due is not None
    assert (await payment_row(factory.database, placed.order["id"])).provider_reference == placed.intent["id"]


async def test_a_retried_stripe_call_reuses_its_idempotency_key(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    stripe_double.fail_next = 1  # the first attempt answers 500; the SDK retries once

    placed = await place(shop, factory, stripe_double)

    first, second = stripe_double.calls_to("/v1/payment_intents")
    assert first.idempotency_key == second.idempotency_key
    assert len(stripe_double.intents) == 1
    assert placed.order["payment"]["client_secret"] == placed.intent["client_secret"]


@pytest.mark.parametrize("outage", ["errors", "hangs"])
async def test_a_provider_outage_during_checkout_is_502_and_takes_no_stock(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble, outage: str
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    if outage == "errors":
        stripe_double.fail_next = 10
    else:
        stripe_double.hang_seconds = 1.5  # beyond STRIPE_TIMEOUT_SECONDS=1

    response = await shop.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=buyer.headers
    )

    assert response.status_code == 502, response.text
    assert response.json()["code"] == "payment_provider_unavailable"
    async with factory.database.read_session() as session:
        assert (await session.get(Product, product.id)).stock == 5  # type: ignore[union-attr]
    assert await count(factory.database, select(func.count()).select_from(Order)) == 0


async def test_a_webhook_delivered_ten_times_at_once_pays_once_and_sends_one_receipt(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    payload = event("payment_intent.succeeded", paid(placed.intent))

    answers = await asyncio.gather(*(shop.post(HOOK, content=payload, headers=sign(payload)) for _ in range(10)))

    assert [answer.status_code for answer in answers] == [200] * 10
    assert sorted(answer.json()["applied"] for answer in answers) == [False] * 9 + [True]
    assert await order_status(factory.database, placed.order["id"]) == "paid"
    assert await count(factory.database, select(func.count()).where(Email.kind == "payment_receipt")) == 1
    assert await count(factory.database, select(func.count()).where(Event.type == "payment.succeeded")) == 1
    changed = select(func.count()).where(Event.type == "order.status_changed")
    assert await count(factory.database, changed) == 1
    assert await count(factory.database, select(func.count()).select_from(ProviderEvent)) == 1
    read = await shop.get(f"/api/v1/orders/{placed.order['id']}/payment", headers=placed.buyer.headers)
    assert read.json()["status"] == "succeeded"


async def test_success_before_requires_action_ends_paid(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)

    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    late = await deliver(shop, "payment_intent.requires_action", placed.intent | {"status": "requires_action"})
    failed = await deliver(shop, "payment_intent.payment_failed", placed.intent | {"status": "requires_payment_method"})

    assert (late.status_code, failed.status_code) == (200, 200)
    assert await order_status(factory.database, placed.order["id"]) == "paid"
    assert (await payment_row(factory.database, placed.order["id"])).status == "succeeded"


async def test_a_failed_payment_is_recorded_and_the_order_stays_pending(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    declined = placed.intent | {"last_payment_error": {"message": "Your card was declined."}}

    assert (await deliver(shop, "payment_intent.payment_failed", declined)).status_code == 200

    payment = await payment_row(factory.database, placed.order["id"])
    assert (payment.status, payment.failure_reason) == ("failed", "Your card was declined.")
    assert await order_status(factory.database, placed.order["id"]) == "pending"
    # The customer tries again and pays.
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    assert await order_status(factory.database, placed.order["id"]) == "paid"


@pytest.mark.parametrize("forgery", ["wrong secret", "too old", "no signature", "body changed"])
async def test_a_forged_or_stale_signature_is_400_and_changes_nothing(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble, forgery: str
) -> None:
    placed = await place(shop, factory, stripe_double)
    payload = event("payment_intent.succeeded", paid(placed.intent))
    headers = {
        "wrong secret": sign(payload, secret="whsec_someone_else"),
        "too old": sign(payload, timestamp=int(time.time()) - 301),
        "no signature": {"Content-Type": "application/json"},
        "body changed": sign(payload.replace(b'"livemode": false', b'"livemode": true')),
    }[forgery]

    response = await shop.post(HOOK, content=payload, headers=headers)

    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    assert await order_status(factory.database, placed.order["id"]) == "pending"
    assert await count(factory.database, select(func.count()).select_from(ProviderEvent)) == 0


@pytest.mark.parametrize("mismatch", [{"amount_received": 2499}, {"currency": "usd"}])
async def test_a_mismatched_amount_or_currency_is_not_paid(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble, mismatch: dict[str, Any]
) -> None:
    placed = await place(shop, factory, stripe_double)

    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent, **mismatch))).status_code == 200

    assert await order_status(factory.database, placed.order["id"]) == "pending"
    payment = await payment_row(factory.database, placed.order["id"])
    assert payment.status == "requires_payment"
    assert payment.failure_reason is not None
    assert "not taken" in payment.failure_reason
    assert await count(factory.database, select(func.count()).where(Email.kind == "payment_receipt")) == 0


async def test_a_paid_order_is_never_cancelled_by_its_deadline(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200

    cancelled = await expiry.cancel_unpaid(factory.database, now=utcnow() + timedelta(days=1))

    assert cancelled == []
    assert await order_status(factory.database, placed.order["id"]) == "paid"


async def test_a_payment_for_an_order_cancelled_by_its_deadline_is_refunded(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert await expiry.cancel_unpaid(factory.database, now=utcnow() + timedelta(hours=1)) == [placed.order["id"]]

    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200

    assert await order_status(factory.database, placed.order["id"]) == "cancelled"
    payment = await payment_row(factory.database, placed.order["id"])
    assert (payment.status, payment.refunded_total) == ("refunded", Decimal("25.00"))
    (refund,) = stripe_double.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (placed.intent["id"], 2500)


async def test_two_concurrent_refunds_of_what_is_left_make_one(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    staff = await factory.staff()
    url = f"/api/v1/orders/{placed.order['id']}/refunds"

    answers = await asyncio.gather(
        *(shop.post(url, json={"reason": "Out of stock", "restock": True}, headers=staff.headers) for _ in range(2))
    )

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    (made,) = [answer.json() for answer in answers if answer.status_code == 201]
    assert (made["amount"], made["status"], made["restocked"]) == ("25.00", "succeeded", True)
    refused = next(answer.json() for answer in answers if answer.status_code == 409)
    assert refused["code"] == "refund_exceeds_payment"
    assert len(stripe_double.refunds) == 1
    assert await count(factory.database, select(func.count()).select_from(Refund)) == 1
    payment = await payment_row(factory.database, placed.order["id"])
    assert (payment.status, payment.refunded_total) == ("refunded", Decimal("25.00"))
    assert await order_status(factory.database, placed.order["id"]) == "refunded"
    async with factory.database.read_session() as session:
        assert (await session.get(Product, placed.product.id)).stock == 5  # type: ignore[union-attr]
    listed = await shop.get(url, headers=placed.buyer.headers)
    assert [refund["id"] for refund in listed.json()] == [made["id"]]


async def test_a_partial_refund_keeps_the_status_and_a_pending_one_succeeds_by_webhook(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    staff = await factory.staff()
    stripe_double.refund_status = "pending"
    url = f"/api/v1/orders/{placed.order['id']}/refunds"

    made = await shop.post(
        f"/api/v1/orders/{placed.order['id']}/refunds",
        json={"amount": "10.00", "reason": "Late"},
        headers=staff.headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending"
    too_much = await shop.post(url, json={"amount": "15.01", "reason": "x"}, headers=staff.headers)
    assert too_much.status_code == 409
    charge = {"id": "ch_1", "object": "charge", "payment_intent": placed.intent["id"], "amount_refunded": 1000}
    assert (await deliver(shop, "charge.refunded", charge)).status_code == 200

    assert await order_status(factory.database, placed.order["id"]) == "paid"
    payment = await payment_row(factory.database, placed.order["id"])
    assert (payment.status, payment.refunded_total) == ("partially_refunded", Decimal("10.00"))
    async with factory.database.read_session() as session:
        assert list(await session.scalars(select(Refund.status))) == ["succeeded"]
    assert await count(factory.database, select(func.count()).where(Email.kind == "refund_issued")) == 1


async def test_a_refund_retried_with_its_idempotency_key_is_made_once(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    staff = await factory.staff()
    url = f"/api/v1/orders/{placed.order['id']}/refunds"
    headers = staff.headers | {"Idempotency-Key": "refund-once"}

    first = await shop.post(url, json={"amount": "5.00", "reason": "Scratched"}, headers=headers)
    again = await shop.post(url, json={"amount": "5.00", "reason": "Scratched"}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(stripe_double.refunds) == 1
    (call,) = stripe_double.calls_to("/v1/refunds")
    payment = await payment_row(factory.database, placed.order["id"])
    assert call.idempotency_key == f"storefront-refund-{payment.id}-0.00-5.00"
    assert payment.refunded_total == Decimal("5.00")
    created = select(func.count()).where(Event.type == "refund.created")
    assert await count(factory.database, created) == 1


async def test_a_customer_may_not_refund_and_an_unpaid_order_cannot_be(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    url = f"/api/v1/orders/{placed.order['id']}/refunds"

    by_customer = await shop.post(url, json={"reason": "I changed my mind"}, headers=placed.buyer.headers)
    unpaid = await shop.post(url, json={"reason": "x"}, headers=(await factory.staff()).headers)

    assert by_customer.status_code == 403
    assert (unpaid.status_code, unpaid.json()["code"]) == (409, "invalid_transition")
    assert stripe_double.refunds == {}


async def test_an_order_refused_after_its_intent_was_created_cancels_the_intent(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    buyer = await factory.customer()
    product = await factory.product(stock=1)

    response = await shop.post(
        "/api/v1/orders", json={"items": [{"product_id": product.id, "quantity": 2}]}, headers=buyer.headers
    )

    assert (response.status_code, response.json()["code"]) == (409, "insufficient_stock")
    (intent,) = stripe_double.intents.values()
    assert intent["status"] == "canceled"
    assert stripe_double.calls_to(f"/v1/payment_intents/{intent['id']}/cancel")
    assert await count(factory.database, select(func.count()).select_from(Order)) == 0


async def test_a_refund_stripe_fails_gives_its_amount_back_and_the_order_its_status(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    staff = await factory.staff()
    url = f"/api/v1/orders/{placed.order['id']}/refunds"
    whole = await shop.post(url, json={"reason": "Never arrived"}, headers=staff.headers)
    assert whole.status_code == 201, whole.text
    assert await order_status(factory.database, placed.order["id"]) == "refunded"
    [asked] = stripe_double.refunds.values()
    failed = {"id": asked["id"], "object": "refund", "payment_intent": placed.intent["id"],
              "status": "failed", "failure_reason": "expired_or_canceled_card", "amount": asked["amount"]}  # fmt: skip

    assert (await deliver(shop, "refund.failed", failed)).status_code == 200
    assert (await deliver(shop, "refund.updated", failed)).status_code == 200  # the same news again: nothing more

    assert await order_status(factory.database, placed.order["id"]) == "paid"  # as before the refund
    payment = await payment_row(factory.database, placed.order["id"])
    assert (payment.status, payment.refunded_total) == ("succeeded", Decimal("0.00"))
    listed = await shop.get(url, headers=staff.headers)
    assert [r["status"] for r in listed.json()] == ["failed"]
    assert await count(factory.database, select(func.count()).where(Event.type == "refund.failed")) == 1
    # The amount may be refunded again.
    again = await shop.post(url, json={"amount": "5.00", "reason": "Partly, to the new card"}, headers=staff.headers)
    assert again.status_code == 201, again.text


async def test_a_pending_refund_confirmed_by_refund_updated_succeeds_once(
    shop: AsyncClient, factory: Factory, stripe_double: StripeDouble
) -> None:
    stripe_double.refund_status = "pending"
    placed = await place(shop, factory, stripe_double)
    assert (await deliver(shop, "payment_intent.succeeded", paid(placed.intent))).status_code == 200
    staff = await factory.staff()
    made = await shop.post(
        f"/api/v1/orders/{placed.order['id']}/refunds", json={"amount": "3.00", "reason": "Late"}, headers=staff.headers
    )
    assert made.json()["status"] == "pending"
    [asked] = stripe_double.refunds.values()
    done = {"id": asked["id"], "object": "refund", "payment_intent": placed.intent["id"], "status": "succeeded"}

    for _ in range(2):
        assert (await deliver(shop, "refund.updated", done)).status_code == 200

    async with factory.database.read_session() as session:
        assert list(await session.scalars(select(Refund.status))) == ["succeeded"]
    assert await count(factory.database, select(func.count()).where(Event.type == "refund.succeeded")) == 1
