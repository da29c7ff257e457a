"""Refunds: money given back on a paid order, all or part, never more than was taken.

Staff ask for one (`POST /orders/{id}/refunds`); the payment's provider gives
it back (Stripe, with an idempotency key) or, for `manual`, it is recorded as
given back by hand. The amount is counted on the payment by one conditional
UPDATE before the provider is asked, so two refunds racing for the same
remainder make one; a provider that fails rolls the count back. A provider
that reports a refund made elsewhere (Stripe's dashboard) is recorded by
`payment_events`. Services flush, never commit.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from storefront.config import PaymentProviderName
from storefront.models import Event, Order, OrderStatus, Payment, Refund, RefundStatus, User
from storefront.orders import notify, service
from storefront.orders.errors import InvalidTransition, RefundExceedsPayment
from storefront.payments import repository as payments_repository
from storefront.payments import service as payments
from storefront.payments.errors import PaymentProviderUnavailable
from storefront.payments.provider import PaymentProvider, RefundRequest, StartedRefund
from storefront.payments.schemas import RefundCreate
from storefront.uow import UnitOfWork

# A fully refunded order that had been paid for is `refunded`; a cancelled one stays `cancelled`.
BECOMES_REFUNDED = frozenset({OrderStatus.paid, OrderStatus.shipped, OrderStatus.delivered})
# The most refunds an order's list shows (the oldest): far more than any order is given.
MAX_LISTED = 500


async def list_refunds(session: UnitOfWork, order: Order) -> list[Refund]:
    query = select(Refund).where(Refund.order_id == order.id).order_by(Refund.id).limit(MAX_LISTED)
    return list(await session.scalars(query))


async def refund(
    session: UnitOfWork, provider: PaymentProvider, actor: User | None, order: Order, data: RefundCreate
) -> Refund:
    """Give back `data.amount` (or all that is left) of the order's payment, through its provider.

    409 `invalid_transition` when nothing was paid, 409 `refund_exceeds_payment`
    when more than paid minus refunded is asked; 502 when the provider fails
    (nothing is counted). The caller holds the order's row.
    """
    payment = order.payment
    if payment is None or payment.status not in payments.SETTLED:
        raise InvalidTransition("Only an order whose payment was taken can be refunded.")
    amount = data.amount if data.amount is not None else payment.amount - payment.refunded_total
    total = await payments_repository.count_refund(session, payment.id, amount)
    if total is None:
        raise RefundExceedsPayment(payment.amount - payment.refunded_total, asked=amount)
    return await _give_back(session, provider, actor, order, payment, amount, total, data.reason, data.restock)


async def refund_all(session: UnitOfWork, provider: PaymentProvider, order: Order, reason: str) -> Refund | None:
    """Give back whatever is left of the order's payment, asked by no one (a payment that
    arrived for an order already cancelled): the refund, or None if nothing was left."""
    payment = order.payment
    assert payment is not None
    amount = payment.amount - payment.refunded_total
    if amount <= 0 or (total := await payments_repository.count_refund(session, payment.id, amount)) is None:
        return None
    return await _give_back(session, provider, None, order, payment, amount, total, reason, restock=False)


async def _give_back(
    session: UnitOfWork,
    provider: PaymentProvider,
    actor: User | None,
    order: Order,
    payment: Payment,
    amount: Decimal,
    total: Decimal,
    reason: str,
    restock: bool,
) -> Refund:
    request = RefundRequest(
        payment_reference=payment.provider_reference,
        order_id=order.id,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        idempotency_key=payments.refund_key(payment, total - amount, amount),
    )
    started = await _ask(provider, payment, request)
    if started.status == RefundStatus.failed:
        raise PaymentProviderUnavailable(f"{payment.provider} refused the refund; nothing was refunded.")
    record = Refund(
        payment_id=payment.id,
        order_id=order.id,
        amount=amount,
        reason=reason,
        status=started.status,
        provider_reference=started.provider_reference,
        restocked=restock and await service.restock(session, order),
        created_by=actor.id if actor is not None else None,
    )
    await record_refund(session, order, payment, record, total, events=("refund.created",))
    return record


async def record_refund(
    session: UnitOfWork, order: Order, payment: Payment, record: Refund, total: Decimal, *, events: tuple[str, ...] = ()
) -> None:
    """Keep `record` and the payment's new refunded `total`; tell of it (`events`, then
    `refund.succeeded` once done); a fully refunded order that had been paid becomes `refunded`."""
    session.add(record)
    payments.refunded(payment, total)
    order.refunded_total = total
    await session.flush()
    for type_ in events:
        await notify.refund_event(session, type_, order, record)
    if record.status == RefundStatus.succeeded:
        await notify.refund_event(session, "refund.succeeded", order, record)
    if total >= payment.amount and order.status in BECOMES_REFUNDED:
        await service.move(session, order, OrderStatus.refunded, email=None)


async def refund_failed(session: UnitOfWork, order: Order, payment: Payment, record: Refund) -> None:
    """The provider could not give the money back (a closed card, say): the refund is
    `failed`, its amount counts as refundable again, and an order made `refunded` by it goes
    back to the status it had (`refund.failed`). Stock it returned stays returned."""
    record.status = RefundStatus.failed
    total = payment.refunded_total - record.amount
    payments.refunded(payment, total)
    order.refunded_total = total
    await session.flush()
    if order.status == OrderStatus.refunded:
        await service.move(session, order, await _status_before_refunded(session, order), email=None)
    await notify.refund_event(session, "refund.failed", order, record)


async def _status_before_refunded(session: UnitOfWork, order: Order) -> OrderStatus:
    """What the order was before a full refund made it `refunded`, by the event log (`paid` once pruned)."""
    changes = await session.scalars(
        select(Event)
        .where(Event.type == "order.status_changed", Event.user_id == order.user_id)
        .order_by(Event.id.desc())
        .limit(500)
    )
    for change in changes:
        if change.data.get("order_id") == order.id and change.data.get("status") == OrderStatus.refunded:
            return OrderStatus(change.data.get("previous_status", OrderStatus.paid))
    return OrderStatus.paid


async def _ask(provider: PaymentProvider, payment: Payment, request: RefundRequest) -> StartedRefund:
    """The provider that took the payment gives it back; a manual payment is given back by hand
    (and recorded as such) whichever provider the deployment uses now."""
    if payment.provider == provider.name:
        return await provider.refund(request)
    if payment.provider == PaymentProviderName.manual:
        return StartedRefund(status=RefundStatus.succeeded)
    raise PaymentProviderUnavailable(
        f"This payment was taken by {payment.provider}, which this deployment does not use now."
    )
