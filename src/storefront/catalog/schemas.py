from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import Field, WithJsonSchema, field_validator

from storefront.kit.schemas import (
    INTEGRAL,
    Id,
    InputModel,
    Money,
    PatchModel,
    ReadModel,
    Verbatim,
    trimmed_text_pattern,
)

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


# --- options and variants -------------------------------------------------------------

MAX_OPTIONS = 3
MAX_OPTION_VALUES = 50
# Active variants a product may have: every one is in the product's body.
MAX_VARIANTS = 100
# No control character, quote or backslash: names and values are matched in
# `option.<Name>=<value>` filters and inside JSON paths.
# Option names and values are kept as sent (they are matched exactly, in filters
# too): no surrounding whitespace, no control character, quote or backslash.
_OPTION_TEXT = trimmed_text_pattern("".join(map(chr, range(0x20))) + '\x7f"\\')
OptionName = Annotated[str, Field(min_length=1, max_length=50, pattern=_OPTION_TEXT, examples=["Size"])]
OptionValue = Annotated[str, Field(min_length=1, max_length=50, pattern=_OPTION_TEXT, examples=["M"])]
_OPTION_TEXT_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 50, "pattern": _OPTION_TEXT}
# Option name -> value. Said as `propertyNames` and `additionalProperties` (Pydantic would
# write `patternProperties`, which leaves keys that miss the pattern unconstrained).
OptionValues = Annotated[
    dict[OptionName, OptionValue],
    Verbatim,
    Field(max_length=MAX_OPTIONS),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_OPTIONS,
            "propertyNames": _OPTION_TEXT_SCHEMA,
            "additionalProperties": _OPTION_TEXT_SCHEMA,
        }
    ),
]
VariantOptions = Annotated[
    OptionValues,
    Field(examples=[{"Size": "M"}], description="One value for each of the product's options."),
]


class OptionWrite(InputModel):
    name: OptionName
    values: Annotated[
        list[OptionValue], Verbatim, Field(min_length=1, max_length=MAX_OPTION_VALUES, examples=[["S", "M", "L"]])
    ]

    @field_validator("values")
    @classmethod
    def _distinct_values(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each value may appear once")
        return values


class OptionsReplace(InputModel):
    """PUT: the product's options, in order; existing variants keep or are given their values."""

    options: Annotated[list[OptionWrite], Field(max_length=MAX_OPTIONS)]

    @field_validator("options")
    @classmethod
    def _distinct_names(cls, options: list[OptionWrite]) -> list[OptionWrite]:
        names = [option.name.casefold() for option in options]
        if len(set(names)) != len(names):
            raise ValueError("each option name may appear once (names are compared ignoring case)")
        return options


class VariantCreate(InputModel):
    sku: Sku | None = None
    options: VariantOptions
    price: Price | None = Field(None, description="The product's price when left out.")
    stock: Stock = 0


class VariantUpdate(PatchModel):
    not_nullable = frozenset({"price"})

    sku: Sku | None = None
    price: Price | None = None
    image: None = Field(None, description="`null` removes the variant's own image.")


class OptionRead(ReadModel):
    name: OptionName
    values: Annotated[list[OptionValue], Field(max_length=MAX_OPTION_VALUES)]


class VariantRead(ReadModel):
    id: Id
    sku: Sku | None
    options: OptionValues
    price: Money
    stock: Stock
    in_stock: bool
    archived: bool
    image_url: Annotated[str, Field(max_length=2048)] | None


class ProductRead(ReadModel):
    id: Id
    sku: Sku | None = Field(description="The SKU of its only variant; null when it has several.")
    name: Name
    description: Description | None
    price: Money = Field(description="The lowest price of its variants for sale.")
    category: Category | None
    stock: Stock = Field(description="The stock of all its variants for sale together.")
    in_stock: bool
    image_url: Annotated[str, Field(max_length=2048)] | None
    archived: bool
    options: Annotated[list[OptionRead], Field(max_length=MAX_OPTIONS)]
    # The variants for sale; staff read archived ones at `GET /products/{id}/variants`.
    variants: Annotated[list[VariantRead], Field(max_length=MAX_VARIANTS)] = Field(validation_alias="active_variants")
    created_at: datetime
    updated_at: datetime


class ProductExport(ProductRead):
    """A line of the JSON Lines export: the product with every variant, archived ones included."""

    variants: Annotated[list[VariantRead], Field(max_length=10_000)] = Field(validation_alias="variants")
