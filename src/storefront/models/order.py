from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront.db import Base, UTCDateTime, utcnow
from storefront.models.payment import Payment
from storefront.models.product import MONEY

ZERO = Decimal("0.00")


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    cancelled = "cancelled"
    refunded = "refunded"  # fully refunded; a partial refund leaves the status as it was


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(String(20), default=OrderStatus.pending, index=True)
    # What `pricing.price()` said when the order was placed; never recomputed.
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount_code: Mapped[str | None] = mapped_column(Text)
    # The discount whose use this order counted: given back if the order is cancelled.
    discount_id: Mapped[int | None] = mapped_column(ForeignKey("discounts.id", ondelete="SET NULL"))
    discount_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    shipping_method: Mapped[str | None] = mapped_column(Text)
    shipping_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    total: Mapped[Decimal] = mapped_column(MONEY)
    refunded_total: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    # An `Address` as JSON (kit/address.py); orders placed before 0009 have their text in `line1`.
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    # An order still pending at this time is cancelled by the worker (orders/expiry.py). Null before 0009.
    payment_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The lines' stock was put back (the order was cancelled, or a refund restocked it): never twice.
    stock_returned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderItem.id", cascade="all, delete-orphan"
    )
    # None for orders placed before payments were recorded (0009).
    payment: Mapped[Payment | None] = relationship(back_populates="order", lazy="raise", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"), index=True)
    # Copied from the product and its variant when the order is placed: later
    # price, name, SKU or option changes never rewrite what the customer bought.
    name: Mapped[str] = mapped_column(String(120))
    sku: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[Decimal] = mapped_column(MONEY)
    # The line's share of the order's discount, and the tax in (or on) what is left of it.
    discount: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")
    tax: Mapped[Decimal] = mapped_column(MONEY, default=ZERO, server_default="0")

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")
