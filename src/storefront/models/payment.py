"""An order's payment: one row per order, kept by the payment provider's adapter and the order rules."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
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
    provider_reference: Mapped[str | None] = mapped_column(String(255), index=True)
    instructions: Mapped[str | None] = mapped_column(Text)
    # What a card form needs to confirm the payment: shown to the customer, never logged.
    client_secret: Mapped[str | None] = mapped_column(String(255))
    refunded_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0")
    # Why the last attempt failed, or why a reported success was not taken (an amount that does not match).
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order] = relationship(back_populates="payment", lazy="raise")
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="payment", lazy="raise", order_by="Refund.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        # Never the client secret: a repr ends up in logs and tracebacks.
        return (
            f"Payment(id={self.id!r}, order_id={self.order_id!r}, provider={self.provider!r}, status={self.status!r})"
        )


class RefundStatus(StrEnum):
    pending = "pending"  # asked of the provider, not yet confirmed (Stripe confirms by its webhook)
    succeeded = "succeeded"
    failed = "failed"


class Refund(Base):
    """Money given back on a payment: asked by staff, or found at the provider (a refund made in Stripe's dashboard)."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[RefundStatus] = mapped_column(String(20))
    restocked: Mapped[bool] = mapped_column(Boolean, default=False)
    provider_reference: Mapped[str | None] = mapped_column(String(255), index=True)  # a Stripe Refund's id
    # Null when the provider reported it (no one here asked for it).
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds", lazy="raise")


class ProviderEvent(Base):
    """A provider's webhook event that was applied: its unique id makes every redelivery a no-op.

    Inserted in the transaction that applies the event, so the two commit (or roll back) together.
    """

    __tablename__ = "provider_events"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
