from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from storefront.config import PaymentProviderName
from storefront.kit.schemas import Id, InputModel, Money, ReadModel
from storefront.models import PaymentStatus, RefundStatus

# The most a refund may name: what an order's total can reach (12 digits before the point).
MAX_REFUND = Decimal("99999999999999.99")


class PaymentSummary(ReadModel):
    """An order's `payment`: how the customer pays."""

    provider: PaymentProviderName
    status: PaymentStatus
    instructions: Annotated[str, Field(max_length=4000)] | None = Field(
        None, description="`manual`: how to pay (bank details, the reference to quote)."
    )
    client_secret: Annotated[str, Field(max_length=255)] | None = Field(
        None, description="A card provider's: what its payment form confirms the payment with."
    )


class PaymentRead(ReadModel):
    """`GET /orders/{id}/payment`: the payment as its provider and staff know it."""

    provider: PaymentProviderName
    status: PaymentStatus
    amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", max_length=3)]
    provider_reference: Annotated[str, Field(max_length=255)] | None
    refunded_total: Money
    failure_reason: Annotated[str, Field(max_length=2000)] | None = Field(
        description="Why the last attempt failed, or why a reported payment was not taken (an amount that "
        "does not match the order's)."
    )
    updated_at: datetime


class RefundCreate(InputModel):
    """`POST /orders/{id}/refunds`: all that is left (no `amount`) or part of it."""

    amount: Annotated[Money, Field(gt=Decimal(0), le=MAX_REFUND, examples=["10.00"])] | None = Field(
        None, description="Defaults to what is left: paid minus refunded."
    )
    reason: Annotated[str, Field(min_length=1, max_length=500, examples=["Damaged in transit"])]
    restock: Annotated[bool, Field(strict=True)] = Field(
        False, description="Put the order's lines back in stock (once per order; a cancelled order's already are)."
    )


class RefundRead(ReadModel):
    id: Id
    amount: Money
    reason: Annotated[str, Field(max_length=500)]
    status: RefundStatus
    restocked: bool
    created_at: datetime


class WebhookReceipt(ReadModel):
    """What the provider's webhook answers: 200 whether the event changed something or had been applied before."""

    event_id: Annotated[str, Field(max_length=255)]
    applied: bool = Field(description="False for a redelivery, or an event that concerns no order here.")
