from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from storefront.auth.dependencies import OptionalUser
from storefront.carts import service
from storefront.carts.dependencies import CartToken, HeldCart, WritableCart
from storefront.carts.schemas import CartItemRead, CartLineSet, CartRead
from storefront.catalog.dependencies import ProductId
from storefront.context import SettingsDep, WriteSession
from storefront.contract import api_router
from storefront.kit.openapi import problems
from storefront.kit.schemas import MAX_ID
from storefront.models import Cart

router = api_router("/carts", tags=["carts"], responses=problems(422))


def _read(cart: Cart, token: str, settings: SettingsDep) -> CartRead:
    priced = service.price(cart, token, currency=settings.currency, ttl_days=settings.cart_ttl_days)
    breakdown = priced.breakdown
    return CartRead(
        id=token,
        items=[
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
        ],
        subtotal=breakdown.subtotal,
        discount_code=cart.discount_code,
        discount_total=breakdown.discount_total,
        shipping_method=cart.shipping_method,
        shipping_address=cart.shipping_address,
        shipping_total=breakdown.shipping_total,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        currency=priced.currency,
        expires_at=priced.expires_at,
    )


@router.post("", status_code=201, response_model=CartRead, responses=problems(401))
async def create_cart(user: OptionalUser, session: WriteSession, settings: SettingsDep, response: Response) -> CartRead:
    """A new empty cart. Its `id` is a secret token; created with a bearer, it is bound to that user."""
    cart, token = await service.create(session, user)
    response.headers["Location"] = f"/api/v1/carts/{token}"
    return _read(cart, token, settings)


@router.get("/{cart_id}", response_model=CartRead, responses=problems(401, 404))
async def read_cart(cart_id: CartToken, cart: HeldCart, settings: SettingsDep) -> CartRead:
    """The cart priced now: each line at its variant's current price, with whether it can be bought."""
    return _read(cart, cart_id, settings)


@router.put("/{cart_id}/items/{product_id}", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def set_cart_item(
    cart_id: CartToken,
    product_id: ProductId,
    body: CartLineSet,
    cart: WritableCart,
    session: WriteSession,
    settings: SettingsDep,
) -> CartRead:
    """Set the quantity of a product's variant in the cart (one line per variant, at most 50 lines)."""
    return _read(await service.set_line(session, cart, product_id, body), cart_id, settings)


@router.delete("/{cart_id}/items/{product_id}", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def remove_cart_item(
    cart_id: CartToken,
    product_id: ProductId,
    cart: WritableCart,
    session: WriteSession,
    settings: SettingsDep,
    variant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Which line, when the product has several variants.")
    ] = None,
) -> CartRead:
    """Take a product's line out of the cart."""
    return _read(await service.remove_line(session, cart, product_id, variant_id), cart_id, settings)
