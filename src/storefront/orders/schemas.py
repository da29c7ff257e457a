from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from storefront.kit.schemas import MAX_ID, Id, InputModel, Money, ReadModel
from storefront.models import OrderStatus


class OrderLineCreate(InputModel):
    # Strict: JSON `true` or `"2"` is no quantity (nor id), as for stock `delta`.
    product_id: int = Field(ge=1, le=MAX_ID, strict=True, examples=[1])
    quantity: int = Field(ge=1, le=1000, strict=True, examples=[2])


class OrderCreate(InputModel):
    items: Annotated[list[OrderLineCreate], Field(min_length=1, max_length=50)]
    shipping_address: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, examples=["1 Main Street, 1000 Brussels, Belgium"]
    )
    note: Annotated[str, Field(max_length=1000)] | None = Field(None, examples=["Please ring twice."])

    @field_validator("items")
    @classmethod
    def _distinct_products(cls, items: list[OrderLineCreate]) -> list[OrderLineCreate]:
        ids = [line.product_id for line in items]
        if len(set(ids)) != len(ids):
            raise ValueError("each product may appear on one line only")
        return items


class OrderStatusChange(InputModel):
    status: OrderStatus = Field(examples=["paid"])


class OrderItemRead(ReadModel):
    product_id: Id
    name: Annotated[str, Field(max_length=120)]
    unit_price: Money
    quantity: Annotated[int, Field(ge=1, le=1000)]
    line_total: Money


class OrderRead(ReadModel):
    id: Id
    user_id: Id
    status: OrderStatus
    items: Annotated[list[OrderItemRead], Field(max_length=50)]
    subtotal: Money
    total: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", max_length=3)]
    shipping_address: Annotated[str, Field(max_length=500)] | None
    note: Annotated[str, Field(max_length=1000)] | None
    created_at: datetime
    updated_at: datetime
