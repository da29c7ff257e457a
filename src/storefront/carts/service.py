"""Cart rules: who may use a cart, what its lines buy, and what it costs now.

Services flush, never commit: the request boundary does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from storefront import pricing
from storefront.carts import repository
from storefront.carts.errors import CartCheckedOut, CartEmpty, CartNotFound, TooManyLines
from storefront.carts.schemas import CartLineSet
from storefront.db import utcnow
from storefront.kit.address import Address
from storefront.models import Cart, CartItem, Order, ProductVariant, User
from storefront.orders import service as orders
from storefront.orders.errors import UnknownProduct, VariantRequired
from storefront.orders.schemas import OrderCreate
from storefront.payments.provider import PaymentProvider
from storefront.rules import service as rules
from storefront.uow import UnitOfWork

MAX_LINES = 50


def new_token() -> str:
    return secrets.token_urlsafe(24)


async def create(session: UnitOfWork, owner: User | None) -> tuple[Cart, str]:
    """A new empty cart and its token (shown once: only its digest is kept); bound to `owner` if given."""
    token = new_token()
    cart = Cart(token_digest=repository.digest(token), user_id=owner.id if owner else None, items=[])
    session.add(cart)
    await session.flush()
    return cart, token


async def held(session: UnitOfWork, token: str, caller: User | None, *, for_update: bool = False) -> Cart:
    """The cart `token` opens, if `caller` may use it: anyone holding the token of
    an unbound cart, only its owner for a bound one. Else 404, never 403."""
    cart = await repository.by_token(session, token, for_update=for_update)
    if cart is None or (cart.user_id is not None and (caller is None or caller.id != cart.user_id)):
        raise CartNotFound()
    return cart


def _open(cart: Cart) -> None:
    if cart.order_id is not None:
        raise CartCheckedOut()


async def set_line(session: UnitOfWork, cart: Cart, product_id: int, data: CartLineSet) -> Cart:
    """Set how many of a variant of `product_id` the cart holds (one line per variant)."""
    _open(cart)
    variant = await _variant_for_sale(session, product_id, data.variant_id)
    line = next((item for item in cart.items if item.variant_id == variant.id), None)
    if line is None:
        if len(cart.items) >= MAX_LINES:
            raise TooManyLines(f"A cart holds at most {MAX_LINES} lines.")
        cart.items.append(
            CartItem(product_id=product_id, variant_id=variant.id, quantity=data.quantity, variant=variant,
                     product=variant.product)
        )  # fmt: skip
    else:
        line.quantity = data.quantity
    return await _changed(session, cart)


async def remove_line(session: UnitOfWork, cart: Cart, product_id: int, variant_id: int | None) -> Cart:
    """Take a product's line out (the one of `variant_id` when it has several); absent already is fine."""
    _open(cart)
    lines = [item for item in cart.items if item.product_id == product_id]
    if variant_id is not None:
        lines = [item for item in lines if item.variant_id == variant_id]
    elif len(lines) > 1:
        raise VariantRequired([product_id])
    for line in lines:
        cart.items.remove(line)
    return await _changed(session, cart)


async def _changed(session: UnitOfWork, cart: Cart) -> Cart:
    cart.updated_at = utcnow()  # a change restarts the cart's time to live
    await session.flush()
    return cart


async def _variant_for_sale(session: UnitOfWork, product_id: int, variant_id: int | None) -> ProductVariant:
    """The variant a line buys: the one named, or the product's only one; 422 as orders answer."""
    active = await repository.variants_for_sale(session, product_id)
    if not active:
        raise UnknownProduct([product_id])
    if variant_id is None:
        if len(active) > 1:
            raise VariantRequired([product_id])
        return active[0]
    variant = next((v for v in active if v.id == variant_id), None)
    if variant is None:
        raise UnknownProduct([], [variant_id])
    return variant


async def apply_discount(session: UnitOfWork, cart: Cart, code: str, caller: User | None) -> Cart:
    """Put a discount code on the cart if it applies to it now (else 422 `invalid_discount`, with the reason)."""
    _open(cart)
    subtotal = pricing.price(_basket(cart)).subtotal
    owner = cart.user_id if cart.user_id is not None else (caller.id if caller else None)
    discount = await rules.applicable_discount(session, code, subtotal=subtotal, user_id=owner, now=utcnow())
    cart.discount_code = discount.code
    return await _changed(session, cart)


async def remove_discount(session: UnitOfWork, cart: Cart) -> Cart:
    _open(cart)
    cart.discount_code = None
    return await _changed(session, cart)


async def set_shipping(session: UnitOfWork, cart: Cart, address: Address, method: str) -> Cart:
    """Where the cart ships and how: 422 `shipping_unavailable` for a method that does not serve the country."""
    _open(cart)
    chosen = await rules.shipping_for(session, method, address.country)
    cart.shipping_method = chosen.code
    cart.shipping_address = address.stored()
    return await _changed(session, cart)


async def checkout(
    session: UnitOfWork,
    user: User,
    cart: Cart,
    *,
    payment_provider: PaymentProvider,
) -> Order:
    """Turn the cart into an order for `user` by the very rules of `POST /orders`
    (stock all or none, the discount's use counted, the payment started), then
    bind the cart to `user`, empty it and close it, in the same transaction."""
    _open(cart)
    if not cart.items:
        raise CartEmpty()
    data = OrderCreate.model_validate(
        {
            "items": [{"variant_id": item.variant_id, "quantity": item.quantity} for item in cart.items],
            "shipping_address": cart.shipping_address,
            "shipping_method": cart.shipping_method if cart.shipping_address else None,
            "discount_code": cart.discount_code,
        }
    )
    order = await orders.place(session, user, data, payment_provider=payment_provider)
    cart.order_id, cart.user_id = order.id, user.id
    cart.items.clear()
    await _changed(session, cart)
    return order


@dataclass(frozen=True, slots=True)
class PricedLine:
    item: CartItem
    unit_price: Decimal
    line_total: Decimal
    available: bool


@dataclass(frozen=True, slots=True)
class PricedCart:
    """A cart with today's prices: what `GET /carts/{id}` shows and checkout would charge."""

    token: str
    cart: Cart
    lines: list[PricedLine]
    breakdown: pricing.Breakdown
    currency: str
    expires_at: datetime


async def price(session: UnitOfWork, cart: Cart, token: str) -> PricedCart:
    """Price every line at its variant's current price, with the cart's discount,
    shipping and tax as they apply now (a code that no longer applies counts nothing)."""
    basket = _basket(cart)
    address = cart.shipping_address
    terms = await orders.terms_for(
        session,
        subtotal=pricing.price(basket).subtotal,
        user_id=cart.user_id,
        discount_code=cart.discount_code,
        shipping_method=cart.shipping_method,
        country=address["country"] if address else None,
        strict=False,
    )
    settings = session.settings
    breakdown = terms.price(basket, prices_include_tax=settings.prices_include_tax)
    lines = [
        PricedLine(item, item.variant.price, priced.total, _available(item))
        for item, priced in zip(cart.items, breakdown.lines, strict=True)
    ]
    expires_at = cart.updated_at + timedelta(days=settings.cart_ttl_days)
    return PricedCart(token, cart, lines, breakdown, settings.currency, expires_at)


def _basket(cart: Cart) -> list[pricing.Line]:
    return [pricing.Line(item.variant.price, item.quantity) for item in cart.items]


def _available(item: CartItem) -> bool:
    return not (item.product.archived or item.variant.archived) and item.variant.stock >= item.quantity
