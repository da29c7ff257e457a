from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storefront.db import Base, UTCDateTime, utcnow

# 14 digits before the point: the largest order the contract allows (50 lines x
# 1000 x 1,000,000 = 50,000,000,000.00) fits with room for shipping and tax.
MONEY = Numeric(16, 2, asdecimal=True)


class Product(Base):
    """What the catalog lists; what a customer buys is one of its `variants`.

    `price` (the lowest price of its active variants) and `stock` (the sum of
    theirs) are kept here too, changed in the same transaction as every variant
    change and stock movement, so that the list's filters and sorts stay a
    query of this one indexed table.
    """

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(MONEY)
    category: Mapped[str | None] = mapped_column(String(50), index=True)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    image_key: Mapped[str | None] = mapped_column(String(255))
    archived: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    options: Mapped[list[ProductOption]] = relationship(
        back_populates="product", lazy="raise", order_by="ProductOption.position", cascade="all, delete-orphan"
    )
    # Archived ones too: past order lines point at them.
    variants: Mapped[list[ProductVariant]] = relationship(
        back_populates="product", lazy="raise", order_by=lambda: [ProductVariant.position, ProductVariant.id]
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def image_url(self) -> str | None:
        return f"/api/v1/products/{self.id}/image" if self.image_key else None

    @property
    def active_variants(self) -> list[ProductVariant]:
        """The variants for sale, in their order."""
        return [variant for variant in self.variants if not variant.archived]

    @property
    def sole_variant(self) -> ProductVariant | None:
        """The one active variant of a product that has exactly one (as every product without options does)."""
        active = self.active_variants
        return active[0] if len(active) == 1 else None

    @property
    def sku(self) -> str | None:
        """The product's SKU is its sole variant's; a product of several variants has none of its own."""
        sole = self.sole_variant
        return sole.sku if sole is not None else None


class ProductOption(Base):
    """One way a product's variants differ (`Size`: S, M, L), in its place among the product's options."""

    __tablename__ = "product_options"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(50))
    values: Mapped[list[str]] = mapped_column(JSON)

    product: Mapped[Product] = relationship(back_populates="options", lazy="raise")


def option_key(options: Mapping[str, str]) -> str:
    """The canonical text of a combination of option values, whatever order they came in.

    Unique per product among active variants (archived ones hold none, so a
    combination can be offered again after its variant was archived).
    """
    return json.dumps(sorted(options.items()), ensure_ascii=False, separators=(",", ":"))


class ProductVariant(Base):
    """What a customer buys: one combination of the product's option values, with its own SKU, price and stock."""

    __tablename__ = "product_variants"
    __table_args__ = (
        UniqueConstraint("product_id", "option_key"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price > 0", name="price_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    # Unique across every variant of every product, archived ones included.
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    options: Mapped[dict[str, str]] = mapped_column(JSON)
    # `option_key(options)` while the variant is active; NULL once archived.
    option_key: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(MONEY)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    image_key: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")

    __mapper_args__ = {"version_id_col": version}

    @property
    def in_stock(self) -> bool:
        return self.stock > 0

    @property
    def image_url(self) -> str | None:
        return f"/api/v1/products/{self.product_id}/variants/{self.id}/image" if self.image_key else None
