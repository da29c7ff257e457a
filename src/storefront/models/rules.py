"""The checkout rules staff configure: discount codes, shipping methods, tax rates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from storefront.db import Base, UTCDateTime, utcnow
from storefront.models.product import MONEY
from storefront.pricing import DiscountKind

# A percentage with up to three decimals, 0..100 (19.000, 7.700, 25.500).
RATE = Numeric(6, 3, asdecimal=True)
CODE_LENGTH = 40


def code_key(code: str) -> str:
    """The form two codes are compared in: `WELCOME10`, `welcome10` and `Welcome10` are one code.

    Codes are ASCII (their schema's pattern), so folding case is all there is to it.
    """
    return code.strip().casefold()


class Discount(Base):
    """A discount code: a percentage or a fixed amount off the goods, within its limits.

    `used` counts the orders that took it; it only ever changes by conditional
    UPDATEs (`rules.repository.count_use`), never read and written back, so
    it can never pass `max_uses` whatever the concurrency.
    """

    __tablename__ = "discounts"
    __table_args__ = (
        CheckConstraint("used >= 0", name="used_not_negative"),
        CheckConstraint("max_uses IS NULL OR used <= max_uses", name="used_within_max_uses"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind <> 'percent' OR value <= 100", name="percent_at_most_100"),
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind_known"),
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses_positive"),
        CheckConstraint(
            "max_uses_per_customer IS NULL OR max_uses_per_customer >= 1", name="max_uses_per_customer_positive"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # As typed, for display; `code_key` is what is unique and looked up.
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    code_key: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    kind: Mapped[DiscountKind] = mapped_column(String(10))
    # A percentage (0 < value <= 100) or an amount of money, both with two decimals.
    value: Mapped[Decimal] = mapped_column(MONEY)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_customer: Mapped[int | None] = mapped_column(Integer)
    min_subtotal: Mapped[Decimal | None] = mapped_column(MONEY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class DiscountCustomerUse(Base):
    """How many times one customer has used one discount code (for `max_uses_per_customer`)."""

    __tablename__ = "discount_customer_uses"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses_not_negative"),)

    discount_id: Mapped[int] = mapped_column(ForeignKey("discounts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)


class ShippingMethod(Base):
    """A way to ship an order, its price, and the countries it serves."""

    __tablename__ = "shipping_methods"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint("free_over IS NULL OR free_over >= 0", name="free_over_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    code_key: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    price: Mapped[Decimal] = mapped_column(MONEY)
    # Free when the discounted subtotal is at least this much.
    free_over: Mapped[Decimal | None] = mapped_column(MONEY)
    # ISO 3166-1 alpha-2 codes, upper-case, each once: `["BE", "DE", "FR"]`.
    countries: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    def serves(self, country: str) -> bool:
        return country.upper() in self.countries


class TaxRate(Base):
    """The tax rate of one country, a percentage: what is charged on goods and shipping sent there."""

    __tablename__ = "tax_rates"
    __table_args__ = (CheckConstraint("rate >= 0 AND rate <= 100", name="rate_percentage"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(2), unique=True)
    rate: Mapped[Decimal] = mapped_column(RATE)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
