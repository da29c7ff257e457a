from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from storefront.catalog.schemas import OptionValues, Sku
from storefront.kit.address import Address, AddressRead
from storefront.kit.schemas import INTEGRAL, MAX_ID, Id, InputModel, Money, ReadModel
from storefront.rules.schemas import Code

if TYPE_CHECKING:
    from storefront.carts.service import PricedCart

# secrets.token_urlsafe(24): 192 random bits in 32 URL-safe characters.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{32}$"
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", max_length=3)]


class CartLineSet(InputModel):
    """How many of one variant the cart holds; `variant_id` may be left out for a product of one variant."""

    not_nullable = frozenset({"variant_id"})

    quantity: Annotated[int, Field(ge=1, le=1000, strict=True, examples=[2]), INTEGRAL]
    variant_id: int | None = Field(
        None, ge=1, le=MAX_ID, strict=True, description="Required when the product has several variants."
    )


class CartDiscountSet(InputModel):
    code: Code = Field(examples=["WELCOME10"], description="Matched ignoring case.")


class CartShippingSet(InputModel):
    address: Address
    method: Code = Field(examples=["standard"], description="A shipping method's code.")


class CartItemRead(ReadModel):
    product_id: Id
    variant_id: Id
    sku: Sku | None
    name: Annotated[str, Field(max_length=120)]
    options: OptionValues
    unit_price: Money = Field(description="The variant's price now.")
    quantity: Annotated[int, Field(ge=1, le=1000)]
    line_total: Money
    available: bool = Field(description="False when the product or variant is archived or short of stock.")


class CartRead(ReadModel):
    id: Annotated[str, Field(pattern=TOKEN_PATTERN, max_length=32, description="The cart's token: keep it secret.")]
    items: Annotated[list[CartItemRead], Field(max_length=50)]
    subtotal: Money
    discount_code: Annotated[str, Field(max_length=64)] | None
    discount_total: Money
    shipping_method: Annotated[str, Field(max_length=64)] | None
    shipping_address: AddressRead | None
    shipping_total: Money
    tax_total: Money
    total: Money
    currency: Currency
    expires_at: datetime = Field(description="When the cart is pruned unless it changes before.")

    @classmethod
    def of(cls, priced: PricedCart) -> CartRead:
        cart, breakdown = priced.cart, priced.breakdown
        items = [
            CartItemRead(
                product_id=line.item.product_id,
                variant_id=line.item.variant_id,
                sku=line.item.variant.sku,
                name=line.item.product.name,
                options=dict(line.item.variant.options),
                unit_price=line.unit_price,
                quantity=line.item.quantity,
                line_total=line.line_total,
                available=line.available,
            )
            for line in priced.lines
        ]
        return cls(
            id=priced.token,
            items=items,
            subtotal=breakdown.subtotal,
            discount_code=cart.discount_code,
            discount_total=breakdown.discount_total,
            shipping_method=cart.shipping_method,
            shipping_address=AddressRead.model_validate(cart.shipping_address) if cart.shipping_address else None,
            shipping_total=breakdown.shipping_total,
            tax_total=breakdown.tax_total,
            total=breakdown.total,
            currency=priced.currency,
            expires_at=priced.expires_at,
        )
