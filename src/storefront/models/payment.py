"""An order's payment: one row per order, kept by the payment provider's adapter and the order rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront.db import Base, UTCDateTime, utcnow
from storefront.models.product import MONEY

if TYPE_CHECKING:
    from storefront.models.order import Order


class PaymentStatus(StrEnum):
    requires_payment = "requires_payment"  # the customer has yet to pay online (a card form)
    requires_action = "requires_action"  # the customer has to act outside the shop (a bank transfer)
    succeeded = "succeeded"
    failed = "failed"  # will not be paid: refused, or the order was cancelled before payment
    refunded = "refunded"
    partially_refunded = "partially_refunded"


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[PaymentStatus] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's id for it (a PaymentIntent's id), or the reference a bank transfer quotes.
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    instructions: Mapped[str | None] = mapped_column(Text)
    # What a card form needs to confirm the payment: shown to the customer, never logged.
    client_secret: Mapped[str | None] = mapped_column(String(255))
    refunded_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="payment", lazy="raise")

    def __repr__(self) -> str:
        # Never the client secret: a repr ends up in logs and tracebacks.
        return (
            f"Payment(id={self.id!r}, order_id={self.order_id!r}, provider={self.provider!r}, status={self.status!r})"
        )
