from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from storefront.kit.schemas import InputModel, Money, PatchModel, ReadModel

Name = Annotated[str, Field(min_length=1, max_length=120, examples=["Espresso cup"])]
Description = Annotated[str, Field(max_length=2000, examples=["Hand-glazed stoneware, 90 ml."])]
Price = Annotated[Money, Field(gt=Decimal(0), le=Decimal(1_000_000), examples=["12.50"])]
Category = Annotated[str, Field(min_length=1, max_length=50, examples=["kitchen"])]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$", examples=["CUP-ESP-090"])]
# The most a product may hold; well inside a 32-bit integer column, so a stock
# adjustment near it can be refused instead of overflowing in the database.
MAX_STOCK = 2_000_000_000
# Strict: JSON `true` or `"3"` is not a quantity.
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True, examples=[25])]


class ProductCreate(InputModel):
    name: Name
    description: Description | None = None
    price: Price
    category: Category | None = None
    sku: Sku | None = None
    stock: Stock = 0


class ProductReplace(ProductCreate):
    """PUT: every field; optional ones left out are cleared."""


class ProductUpdate(PatchModel):
    not_nullable = frozenset({"name", "price", "stock"})

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    category: Category | None = None
    sku: Sku | None = None
    stock: Stock | None = None


class StockAdjustment(InputModel):
    delta: int = Field(ge=-MAX_STOCK, le=MAX_STOCK, strict=True, examples=[-3])


class ProductRead(ReadModel):
    id: int
    sku: str | None
    name: str
    description: str | None
    price: Money
    category: str | None
    stock: int
    in_stock: bool
    image_url: str | None
    archived: bool
    created_at: datetime
    updated_at: datetime
