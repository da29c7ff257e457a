from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from storefront.auth.dependencies import CurrentUser, OptionalUser
from storefront.carts import service
from storefront.carts.dependencies import CartToken, HeldCart, WritableCart
from storefront.carts.schemas import CartDiscountSet, CartLineSet, CartRead, CartShippingSet
from storefront.catalog.dependencies import ProductId
from storefront.context import PaymentsDep, SessionDep, WriteSession
from storefront.contract import api_router
from storefront.idempotency import IdempotencyDep
from storefront.kit.openapi import problems
from storefront.kit.schemas import MAX_ID
from storefront.models import Cart, Order
from storefront.orders import service as orders
from storefront.orders.schemas import OrderRead

router = api_router("/carts", tags=["carts"], responses=problems(422))


async def _read(session: SessionDep, cart: Cart, token: str) -> CartRead:
    return CartRead.of(await service.price(session, cart, token))


@router.post("", status_code=201, response_model=CartRead, responses=problems(401))
async def create_cart(user: OptionalUser, session: WriteSession, response: Response) -> CartRead:
    """A new empty cart. Its `id` is a secret token; created with a bearer, it is bound to that user."""
    cart, token = await service.create(session, user)
    response.headers["Location"] = f"/api/v1/carts/{token}"
    return await _read(session, cart, token)


@router.get("/{cart_id}", response_model=CartRead, responses=problems(401, 404))
async def read_cart(cart_id: CartToken, cart: HeldCart, session: SessionDep) -> CartRead:
    """The cart priced now: each line at its variant's current price, with whether it can be bought."""
    return await _read(session, cart, cart_id)


@router.put("/{cart_id}/items/{product_id}", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def set_cart_item(
    cart_id: CartToken, product_id: ProductId, body: CartLineSet, cart: WritableCart, session: WriteSession
) -> CartRead:
    """Set the quantity of a product's variant in the cart (one line per variant, at most 50 lines)."""
    return await _read(session, await service.set_line(session, cart, product_id, body), cart_id)


@router.delete("/{cart_id}/items/{product_id}", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def remove_cart_item(
    cart_id: CartToken,
    product_id: ProductId,
    cart: WritableCart,
    session: WriteSession,
    variant_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Which line, when the product has several variants.")
    ] = None,
) -> CartRead:
    """Take a product's line out of the cart."""
    return await _read(session, await service.remove_line(session, cart, product_id, variant_id), cart_id)


@router.put("/{cart_id}/discount", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def set_cart_discount(
    cart_id: CartToken, body: CartDiscountSet, cart: WritableCart, session: WriteSession, user: OptionalUser
) -> CartRead:
    """Apply a discount code; one that is unknown, expired, used up or does not apply is 422 with the reason."""
    return await _read(session, await service.apply_discount(session, cart, body.code, user), cart_id)


@router.delete("/{cart_id}/discount", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def remove_cart_discount(cart_id: CartToken, cart: WritableCart, session: WriteSession) -> CartRead:
    """Take the discount code off the cart."""
    return await _read(session, await service.remove_discount(session, cart), cart_id)


@router.put("/{cart_id}/shipping", response_model=CartRead, responses=problems(401, 404, 409, 422))
async def set_cart_shipping(
    cart_id: CartToken, body: CartShippingSet, cart: WritableCart, session: WriteSession
) -> CartRead:
    """Where the cart ships and by which method; a method that does not serve the country is 422."""
    return await _read(session, await service.set_shipping(session, cart, body.address, body.method), cart_id)


@router.post(
    "/{cart_id}/checkout", status_code=201, response_model=OrderRead, responses=problems(401, 404, 409, 422, 502)
)
async def checkout_cart(
    cart_id: CartToken,
    user: CurrentUser,
    cart: WritableCart,
    session: WriteSession,
    payments: PaymentsDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> Order | Response:
    """Turn the cart into an order: stock for every line or none, the discount's use counted,
    the payment started. Honours `Idempotency-Key`; a second checkout without it is 409."""

    async def checkout() -> Order:
        order = await service.checkout(session, user, cart, payment_provider=payments)
        response.headers["ETag"] = orders.etag(order)
        return order

    return await idempotency.run(user, checkout, location=lambda order: f"/api/v1/orders/{order.id}")
