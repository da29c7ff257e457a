from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field

from storefront.kit.schemas import INTEGRAL, Id, InputModel, Money, PatchModel, ReadModel

Name = Annotated[str, Field(min_length=1, max_length=120, examples=["Espresso cup"])]
Description = Annotated[str, Field(max_length=2000, examples=["Hand-glazed stoneware, 90 ml."])]
Price = Annotated[Money, Field(gt=Decimal(0), le=Decimal(1_000_000), examples=["12.50"])]
Category = Annotated[str, Field(min_length=1, max_length=50, examples=["kitchen"])]
Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$", examples=["CUP-ESP-090"])]
# The most a product may hold; well inside a 32-bit integer column, so a stock
# adjustment near it can be refused instead of overflowing in the database.
MAX_STOCK = 2_000_000_000
# Strict: JSON `true` or `"3"` is not a quantity (`3.0` is).
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK, strict=True, examples=[25]), INTEGRAL]


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
    delta: Annotated[int, Field(ge=-MAX_STOCK, le=MAX_STOCK, strict=True, examples=[-3]), INTEGRAL]


class ProductRead(ReadModel):
    id: Id
    sku: Sku | None
    name: Name
    description: Description | None
    price: Money
    category: Category | None
    stock: Stock
    in_stock: bool
    image_url: Annotated[str, Field(max_length=2048)] | None
    archived: bool
    created_at: datetime
    updated_at: datetime
