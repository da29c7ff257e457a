from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from storefront.config import PaymentProviderName
from storefront.kit.schemas import Money, ReadModel
from storefront.models import PaymentStatus


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
    updated_at: datetime
