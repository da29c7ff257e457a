"""What a card provider's webhook tells us about an order's payment, applied exactly once.

The webhook is the source of truth for card payments: the customer pays in
Stripe's form, and Stripe reports the outcome here. Each event is applied in
one transaction that first records its id (`payments.repository.first_delivery`),
so a redelivery, however many arrive at once, changes nothing. The order's row
is then locked, so events for one order, the payment deadline and staff apply
one after the other, and none moves an order or payment backwards:

- `payment_intent.succeeded`: the amount and currency must be the order's
  (else nothing is taken, and the payment says why); a pending order becomes
  `paid` (`order.status_changed`, `payment.succeeded`, a receipt); an order
  cancelled meanwhile (its deadline passed) has the payment refunded at once.
- `payment_intent.payment_failed`: the payment is `failed` with Stripe's reason;
  the order stays pending until it is due, so the customer may try again.
- `payment_intent.processing` / `requires_action`: the payment waits on the
  customer's bank or the customer (`requires_action`), unless it is settled.
- `charge.refunded`: pending refunds succeeded; an amount refunded beyond what
  was asked here (Stripe's dashboard) is recorded as a refund of its own.
- `refund.failed`, or `refund.updated` to `failed` or `canceled`: the refund asked
  here is `failed` and its amount refundable again (`refunds.refund_failed`);
  `refund.updated` to `succeeded` confirms a pending one as `charge.refunded` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from storefront.config import PaymentProviderName
from storefront.log import get_logger
from storefront.models import Order, OrderStatus, Payment, PaymentStatus, Refund, RefundStatus
from storefront.orders import notify, refunds, repository, service
from storefront.payments import repository as payments_repository
from storefront.payments import service as payments
from storefront.payments.provider import PaymentProvider, minor_units
from storefront.payments.stripe_payments import StripeEvent
from storefront.uow import UnitOfWork

log = get_logger("storefront.orders.payment_events")
STRIPE = str(PaymentProviderName.stripe)
# A payment in one of these has an outcome; no report of a later attempt's progress undoes it.
SETTLED = payments.SETTLED
LATE_PAYMENT_REASON = "The payment arrived after the order was cancelled."
OUTSIDE_REFUND_REASON = "Refunded at Stripe."

Handler = Callable[[UnitOfWork, PaymentProvider, Order, Payment, dict[str, Any]], Awaitable[None]]


async def apply(session: UnitOfWork, provider: PaymentProvider, event: StripeEvent) -> bool:
    """Apply a verified Stripe event: True if it changed something, False for a redelivery
    or an event that concerns no order of this shop (both are answered 200, so Stripe stops)."""
    if not await payments_repository.first_delivery(session, STRIPE, event.id, event.type):
        return False
    handler = HANDLERS.get(event.type)
    on_intent = not event.type.startswith(("charge.", "refund."))
    intent_id = event.object.get("id") if on_intent else event.object.get("payment_intent")
    if handler is None or not isinstance(intent_id, str):
        return False
    order_id = await payments_repository.order_id_for(session, STRIPE, intent_id)
    if order_id is None:
        log.info("stripe_event_for_no_order", event_id=event.id, type=event.type)
        return False
    order = await repository.get_locked(session, order_id)
    assert order.payment is not None, "the payment was found by its reference"
    await handler(session, provider, order, order.payment, event.object)
    return True


async def _succeeded(
    session: UnitOfWork, provider: PaymentProvider, order: Order, payment: Payment, intent: dict[str, Any]
) -> None:
    if payment.status in SETTLED:
        return
    received = intent.get("amount_received") or intent.get("amount")
    currency = str(intent.get("currency", "")).upper()
    if received != minor_units(payment.amount) or currency != payment.currency:
        payment.failure_reason = (
            f"Stripe reported {_major(received)} {currency} paid, but the order is for "
            f"{payment.amount:.2f} {payment.currency}: not taken; check it in Stripe's dashboard."
        )
        log.warning("stripe_amount_mismatch", order_id=order.id, received=received, currency=currency)
        return
    payment.status = PaymentStatus.succeeded
    payment.failure_reason = None
    if order.status == OrderStatus.pending:
        await service.move(session, order, OrderStatus.paid, email=None)
        await notify.payment_event(session, "payment.succeeded", order, payment, email="payment_receipt")
        return
    await session.flush()
    await notify.payment_event(session, "payment.succeeded", order, payment, email=None)
    if order.status == OrderStatus.cancelled:
        log.warning("stripe_paid_after_cancel", order_id=order.id)
        await refunds.refund_all(session, provider, order, LATE_PAYMENT_REASON)


async def _failed(
    session: UnitOfWork, provider: PaymentProvider, order: Order, payment: Payment, intent: dict[str, Any]
) -> None:
    if payment.status in SETTLED:
        return
    error = intent.get("last_payment_error") or {}
    payment.status = PaymentStatus.failed
    payment.failure_reason = str(error.get("message") or "The payment was declined.")[:2000]
    await session.flush()
    await notify.payment_event(session, "payment.failed", order, payment, email=None)


async def _waiting(
    session: UnitOfWork, provider: PaymentProvider, order: Order, payment: Payment, intent: dict[str, Any]
) -> None:
    if payment.status not in SETTLED:
        payment.status = PaymentStatus.requires_action


async def _refunded(
    session: UnitOfWork, provider: PaymentProvider, order: Order, payment: Payment, charge: dict[str, Any]
) -> None:
    """Stripe's total refunded on the charge: what was asked here is done, and any more was asked there."""
    at_stripe = Decimal(int(charge.get("amount_refunded") or 0)).scaleb(-2)
    asked = await session.scalars(
        select(Refund).where(Refund.payment_id == payment.id, Refund.status == RefundStatus.pending)
    )
    for record in asked:
        record.status = RefundStatus.succeeded
        await session.flush()
        await notify.refund_event(session, "refund.succeeded", order, record)
    outside = min(at_stripe, payment.amount) - payment.refunded_total
    if outside <= 0:
        return
    record = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=outside,
        reason=OUTSIDE_REFUND_REASON,
        status=RefundStatus.succeeded,
        provider_reference=None,
        restocked=False,
    )
    await refunds.record_refund(session, order, payment, record, payment.refunded_total + outside)


async def _refund_changed(
    session: UnitOfWork, provider: PaymentProvider, order: Order, payment: Payment, refund: dict[str, Any]
) -> None:
    """A refund asked here that Stripe finished one way or the other."""
    record = await session.scalar(
        select(Refund).where(Refund.payment_id == payment.id, Refund.provider_reference == refund.get("id"))
    )
    if record is None or record.status == RefundStatus.failed:
        return  # not asked here (`charge.refunded` records those), or already failed
    if refund.get("status") in ("failed", "canceled"):  # Stripe may fail one it had called succeeded
        log.warning("stripe_refund_failed", order_id=order.id, refund_id=record.id, reason=refund.get("failure_reason"))
        await refunds.refund_failed(session, order, payment, record)
    elif refund.get("status") == "succeeded" and record.status == RefundStatus.pending:
        record.status = RefundStatus.succeeded
        await session.flush()
        await notify.refund_event(session, "refund.succeeded", order, record)


def _major(minor: object) -> str:
    return f"{Decimal(minor).scaleb(-2):.2f}" if isinstance(minor, int) else "an unknown amount"


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "payment_intent.processing": _waiting,
    "payment_intent.requires_action": _waiting,
    "charge.refunded": _refunded,
    "refund.failed": _refund_changed,
    "refund.updated": _refund_changed,
}
