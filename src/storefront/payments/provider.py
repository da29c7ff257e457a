"""The payment provider interface: what the order rules ask of whoever takes the money.

The domain calls `PaymentProvider.start()` once, for an order that has just been
placed, inside the transaction that placed it, and stores what comes back. An
adapter owns its SDK, its timeouts, its retries and its idempotency: a failure
or a timeout is raised as `PaymentProviderUnavailable` (502), which rolls the
order (and its stock) back. What a later step needs (webhooks, refunds) joins
this protocol with the adapter that needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from storefront.config import PaymentProviderName
from storefront.models import PaymentStatus


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
        """The amount in cents (a card provider's "minor units" for two-decimal currencies)."""
        return int(self.amount.scaleb(2))


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """What the provider answered: stored on the payment, and partly shown on the order."""

    status: PaymentStatus
    due_at: datetime  # the order is cancelled if it is not paid by then
    provider_reference: str | None = None
    instructions: str | None = None  # for the customer: how to pay outside the shop
    client_secret: str | None = field(default=None, repr=False)  # for a card form; never logged


class PaymentProvider(Protocol):
    """Whoever takes the deployment's payments (`PAYMENT_PROVIDER`)."""

    @property
    def name(self) -> PaymentProviderName: ...

    async def start(self, request: PaymentRequest) -> StartedPayment:
        """Begin the payment of a freshly placed order; `PaymentProviderUnavailable` if that cannot be done now."""
        ...
