"""The payment record: started through the provider when an order is placed, moved on by the order rules.

Services flush, never commit: a payment is written in the transaction of the order change that causes it.
"""

from __future__ import annotations

from decimal import Decimal

from storefront.models import Order, Payment, PaymentStatus, User
from storefront.payments.provider import PaymentProvider, PaymentRequest
from storefront.uow import UnitOfWork

# What a payment may not leave: money taken (or given back) is not undone by the order's status.
SETTLED = frozenset({PaymentStatus.succeeded, PaymentStatus.refunded, PaymentStatus.partially_refunded})


def idempotency_key(order: Order) -> str:
    """One key per order: its id and the moment it was placed (ids of rolled-back orders can come again)."""
    return f"storefront-order-{order.id}-{order.created_at:%Y%m%dT%H%M%S%f}"


async def start(session: UnitOfWork, provider: PaymentProvider, order: Order, customer: User) -> Payment:
    """Ask `provider` to begin paying for `order` (just placed and flushed) and record its answer on the order.

    `PaymentProviderUnavailable` from the provider propagates: the caller's transaction rolls back.
    """
    request = PaymentRequest(
        order_id=order.id,
        amount=order.total,
        currency=order.currency,
        idempotency_key=idempotency_key(order),
        customer_email=customer.email,
    )
    started = await provider.start(request)
    payment = Payment(
        order=order,
        provider=str(provider.name),
        status=started.status,
        amount=order.total,
        currency=order.currency,
        provider_reference=started.provider_reference,
        instructions=started.instructions,
        client_secret=started.client_secret,
    )
    session.add(payment)
    order.payment_due_at = started.due_at
    await session.flush()
    return payment


def succeeded(order: Order) -> None:
    """Staff recorded the payment (`manual`): the order was paid."""
    if order.payment is not None:
        order.payment.status = PaymentStatus.succeeded


def abandoned(order: Order) -> None:
    """The order was cancelled before it was paid (by its owner, staff, or the payment deadline):
    no payment will come. A payment already taken stays as it is (a refund is another step)."""
    if order.payment is not None and order.payment.status not in SETTLED:
        order.payment.status = PaymentStatus.failed


def refund_key(payment: Payment, previous: Decimal, amount: Decimal) -> str:
    """The provider's idempotency key for a refund of `amount` after `previous` was refunded:
    a retry after a timeout (rolled back here, perhaps done there) is the same refund; a later
    refund of the same amount, made after this one counted, is another."""
    return f"storefront-refund-{payment.id}-{previous:.2f}-{amount:.2f}"


def refunded(payment: Payment, total: Decimal) -> None:
    """The payment has had `total` refunded, all or part of it (none: a failed refund was given back)."""
    payment.refunded_total = total
    if total <= 0:
        payment.status = PaymentStatus.succeeded
    else:
        payment.status = PaymentStatus.refunded if total >= payment.amount else PaymentStatus.partially_refunded
