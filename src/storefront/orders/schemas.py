from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from storefront.catalog.schemas import OptionValues, Sku
from storefront.kit.address import Address, AddressRead
from storefront.kit.schemas import MAX_ID, Id, InputModel, Money, ReadModel
from storefront.models import OrderStatus
from storefront.payments.schemas import PaymentSummary
from storefront.rules.schemas import Code

# Codes of discounts and shipping methods, as the rules that priced the order named them.
RuleCode = Annotated[str, Field(max_length=64)]


class OrderLineCreate(InputModel):
    """A line names the variant bought, or only the product when it has one variant."""

    not_nullable = frozenset({"product_id", "variant_id"})

    # Strict: JSON `true` or `"2"` is no quantity (nor id), as for stock `delta`.
    product_id: int | None = Field(None, ge=1, le=MAX_ID, strict=True, examples=[1])
    variant_id: int | None = Field(
        None, ge=1, le=MAX_ID, strict=True, description="Required when the product has several variants."
    )
    quantity: int = Field(ge=1, le=1000, strict=True, examples=[2])

    @model_validator(mode="after")
    def _names_what_it_buys(self) -> OrderLineCreate:
        if self.product_id is None and self.variant_id is None:
            raise ValueError("a line needs a variant_id or a product_id")
        return self

    @property
    def key(self) -> tuple[str, int]:
        """What the line buys, as far as the request says."""
        return ("variant", self.variant_id) if self.variant_id is not None else ("product", self.product_id or 0)


class OrderCreate(InputModel):
    """What `POST /orders` takes, and what a cart's checkout hands on: the same rules apply to both."""

    items: Annotated[list[OrderLineCreate], Field(min_length=1, max_length=50)]
    shipping_address: Address | None = None
    shipping_method: Code | None = Field(
        None, examples=["standard"], description="A shipping method's code; needs a `shipping_address`."
    )
    discount_code: Code | None = Field(None, examples=["WELCOME10"], description="Matched ignoring case.")
    note: Annotated[str, Field(max_length=1000)] | None = Field(None, examples=["Please ring twice."])

    @model_validator(mode="after")
    def _ships_somewhere(self) -> OrderCreate:
        if self.shipping_method is not None and self.shipping_address is None:
            raise ValueError("a shipping_method needs a shipping_address")
        return self

    @field_validator("items")
    @classmethod
    def _distinct_lines(cls, items: list[OrderLineCreate]) -> list[OrderLineCreate]:
        keys = [line.key for line in items]
        if len(set(keys)) != len(keys):
            raise ValueError("each product or variant may appear on one line only")
        return items


class OrderStatusChange(InputModel):
    status: OrderStatus = Field(examples=["paid"])


class OrderItemRead(ReadModel):
    product_id: Id
    variant_id: Id
    # The variant's SKU and option values when the order was placed.
    sku: Sku | None
    name: Annotated[str, Field(max_length=120)]
    options: OptionValues
    unit_price: Money
    quantity: Annotated[int, Field(ge=1, le=1000)]
    line_total: Money
    discount: Money = Field(description="The line's share of the order's discount.")
    tax: Money = Field(description="The tax in the line's discounted total (or added to it, when prices exclude tax).")


class OrderRead(ReadModel):
    id: Id
    user_id: Id
    status: OrderStatus
    items: Annotated[list[OrderItemRead], Field(max_length=50)]
    subtotal: Money
    discount_code: RuleCode | None
    discount_total: Money
    shipping_method: RuleCode | None
    shipping_total: Money
    tax_total: Money
    total: Money
    refunded_total: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", max_length=3)]
    shipping_address: AddressRead | None
    note: Annotated[str, Field(max_length=1000)] | None
    payment_due_at: datetime | None = Field(
        description="An order still pending then is cancelled (null for orders placed before payments)."
    )
    payment: PaymentSummary | None = Field(
        description="How the order is paid (null for orders placed before payments)."
    )
    created_at: datetime
    updated_at: datetime
