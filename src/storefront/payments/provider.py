"""The payment provider interface: what the order rules ask of whoever takes the money.

The domain calls `PaymentProvider.start()` once for an order being placed, inside
the transaction that places it but before any stock or discount row is locked
(so a slow provider holds up no other checkout), and stores what comes back; if
the order is then refused (stock ran out meanwhile), `discard()` lets the
provider drop the payment it began. `refund()` gives money back on a payment it
took. An adapter owns its SDK, its timeouts, its retries and its idempotency: a
failure or a timeout is raised as `PaymentProviderUnavailable` (502), which rolls
the change (and any stock it took) back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from storefront.config import PaymentProviderName
from storefront.models import PaymentStatus, RefundStatus


def minor_units(amount: Decimal) -> int:
    """An amount in cents (a card provider's "minor units" for two-decimal currencies)."""
    return int(amount.scaleb(2))


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """What a provider is told about the order it is to be paid for."""

    order_id: int
    amount: Decimal  # the order's total, two decimals
    currency: str  # ISO 4217, upper case
    # Derived from the order (its id and when it was placed), so a retried call is one payment
    # at the provider and a later order that reuses a rolled-back order's id is another.
    idempotency_key: str
    customer_email: str

    @property
    def amount_minor(self) -> int:
        return minor_units(self.amount)


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """What the provider answered: stored on the payment, and partly shown on the order."""

    status: PaymentStatus
    due_at: datetime  # the order is cancelled if it is not paid by then
    provider_reference: str | None = None
    instructions: str | None = None  # for the customer: how to pay outside the shop
    client_secret: str | None = field(default=None, repr=False)  # for a card form; never logged


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Money to give back on a payment the provider took."""

    payment_reference: str | None  # the provider's id of the payment (a PaymentIntent's)
    order_id: int
    amount: Decimal  # two decimals, more than zero
    currency: str
    reason: str
    # Derived from the payment and what it had refunded before, so a retry after a timeout
    # is the same refund at the provider, and a later refund of the same amount another.
    idempotency_key: str

    @property
    def amount_minor(self) -> int:
        return minor_units(self.amount)


@dataclass(frozen=True, slots=True)
class StartedRefund:
    status: RefundStatus
    provider_reference: str | None = None


class PaymentProvider(Protocol):
    """Whoever takes the deployment's payments (`PAYMENT_PROVIDER`)."""

    @property
    def name(self) -> PaymentProviderName: ...

    async def start(self, request: PaymentRequest) -> StartedPayment:
        """Begin the payment of an order being placed; `PaymentProviderUnavailable` if that cannot be done now."""
        ...

    async def discard(self, reference: str | None) -> None:
        """The order a payment was begun for (`provider_reference`) was not placed after all:
        drop it (best effort, never raises)."""
        ...

    async def refund(self, request: RefundRequest) -> StartedRefund:
        """Give money back; `PaymentProviderUnavailable` if the provider cannot be asked now."""
        ...

    async def close(self) -> None:
        """Release connections (the app context's `stop()`)."""
        ...
