"""Order rules: what a viewer lists, all-or-nothing stock, server-side totals, the status machine,
the payment deadline.

Services flush, never commit: the request boundary does, so a failure
anywhere rolls back every stock change made for the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storefront import pricing
from storefront.catalog.errors import InsufficientStock
from storefront.db import utcnow
from storefront.kit.etag import make_etag
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Order, OrderItem, OrderStatus, Payment, Product, ProductVariant, User
from storefront.models.rules import Discount, ShippingMethod
from storefront.orders import notify, repository
from storefront.orders.errors import InvalidTransition, UnknownProduct, VariantRequired
from storefront.orders.schemas import OrderCreate, OrderLineCreate
from storefront.payments import service as payments
from storefront.payments.errors import PaymentNotFound
from storefront.payments.provider import PaymentProvider
from storefront.rules import service as rules
from storefront.rules.errors import InvalidDiscount, ShippingUnavailable
from storefront.uow import UnitOfWork

SORTABLE: dict[str, Sortable] = {
    "created_at": Order.created_at,
    "total": Order.total,
    "status": Order.status,
    "id": Order.id,
}

# Forward moves staff may make; cancelling is handled apart (it returns stock).
NEXT_STATUS = {
    OrderStatus.pending: OrderStatus.paid,
    OrderStatus.paid: OrderStatus.shipped,
    OrderStatus.shipped: OrderStatus.delivered,
}


@dataclass(frozen=True, slots=True)
class Terms:
    """The rules an order is priced by beyond its lines, as its request named them:
    the discount, the shipping method, and the tax rate of the country it ships to."""

    discount: Discount | None = None
    shipping: ShippingMethod | None = None
    tax_rate: Decimal | None = None  # a percentage

    def price(self, basket: Sequence[pricing.Line], *, prices_include_tax: bool) -> pricing.Breakdown:
        return pricing.price(
            basket,
            discount=rules.pricing_discount(self.discount) if self.discount else None,
            shipping=rules.pricing_shipping(self.shipping) if self.shipping else None,
            tax_rate=self.tax_rate,
            prices_include_tax=prices_include_tax,
        )


async def terms_for(
    session: UnitOfWork,
    *,
    subtotal: Decimal,
    user_id: int | None,
    discount_code: str | None,
    shipping_method: str | None,
    country: str | None,
    strict: bool = True,
) -> Terms:
    """The rules these codes name, checked against the basket (422 `invalid_discount`
    or `shipping_unavailable` with the reason); the tax rate is the shipping country's.

    Not `strict` (a cart shown before checkout), a code that no longer applies is
    left out of the price instead of refused: checkout will refuse it.
    """
    discount = shipping = None
    try:
        if discount_code is not None:
            discount = await rules.applicable_discount(
                session, discount_code, subtotal=subtotal, user_id=user_id, now=utcnow()
            )
    except InvalidDiscount:
        if strict:
            raise
    try:
        if shipping_method is not None and country is not None:
            shipping = await rules.shipping_for(session, shipping_method, country)
    except ShippingUnavailable:
        if strict:
            raise
    tax_rate = await rules.tax_rate_for(session, country) if country is not None else None
    return Terms(discount, shipping, tax_rate)


@dataclass(frozen=True, slots=True)
class OrderFilters:
    """What an order list is narrowed by; `None` leaves a criterion out."""

    status: OrderStatus | None = None
    user_id: int | None = None


async def list_orders(
    session: UnitOfWork, viewer: User, filters: OrderFilters, page: Page, sort: Sort
) -> PageOf[Order]:
    """One page of the orders `viewer` may read, narrowed by `filters`, in `sort` order.

    Only staff and admins filter by `user_id`; a customer's is ignored (their own orders are all they read).
    """
    user_id = filters.user_id if viewer.is_staff else None
    query = repository.search(repository.readable_by(viewer), user_id=user_id, status=filters.status)
    return await fetch(session, query.order_by(*order_by(SORTABLE[sort.field], sort, Order.id)), page)


async def place(
    session: UnitOfWork,
    user: User,
    data: OrderCreate,
    *,
    payment_provider: PaymentProvider,
) -> Order:
    """Take stock for every line or none, count the discount's use, record the order at
    today's prices with its discount, shipping and tax, and start its payment.

    One transaction: a refused code, a line short of stock, a discount used up
    meanwhile or a provider that fails (502) rolls all of it back. The payment is
    started before any stock is taken, so a slow provider locks nothing others need;
    should the order be refused after that, the provider is told to drop it.
    """
    chosen = await _variants_of(session, data.items)
    basket = [pricing.Line(variant.price, line.quantity) for line, variant, _ in chosen]
    country = data.shipping_address.country if data.shipping_address is not None else None
    terms = await terms_for(
        session,
        subtotal=pricing.price(basket).subtotal,
        user_id=user.id,
        discount_code=data.discount_code,
        shipping_method=data.shipping_method,
        country=country,
    )
    settings = session.settings
    breakdown = terms.price(basket, prices_include_tax=settings.prices_include_tax)
    items = [
        OrderItem(
            product_id=product.id,
            variant_id=variant.id,
            name=product.name,
            sku=variant.sku,
            options=dict(variant.options),
            unit_price=variant.price,
            quantity=line.quantity,
            line_total=priced.total,
            discount=priced.discount,
            tax=priced.tax,
        )
        for (line, variant, product), priced in zip(chosen, breakdown.lines, strict=True)
    ]
    order = Order(
        user_id=user.id,
        status=OrderStatus.pending,
        items=items,
        subtotal=breakdown.subtotal,
        discount_id=terms.discount.id if terms.discount else None,
        discount_code=terms.discount.code if terms.discount else None,
        discount_total=breakdown.discount_total,
        shipping_method=terms.shipping.code if terms.shipping else None,
        shipping_total=breakdown.shipping_total,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        currency=settings.currency,
        shipping_address=data.shipping_address.stored() if data.shipping_address is not None else None,
        note=data.note,
    )
    session.add(order)
    await session.flush()
    # The provider first, while this transaction has locked no stock or discount row:
    # however long it takes to answer, no other checkout waits for it.
    payment = await payments.start(session, payment_provider, order, user)
    lines = [repository.Line(product.id, variant.id, line.quantity) for line, variant, product in chosen]
    try:
        taken = await repository.take_stock(session, lines, {variant.id: variant.sku for _, variant, _ in chosen})
        if not taken:
            raise InsufficientStock(taken.short_products, taken.short_variants)
        if terms.discount is not None:
            # After the stock: every checkout locks products first, then the discount, so none deadlock.
            await rules.claim_discount(session, terms.discount, user.id)
    except Exception:
        await payment_provider.discard(payment.provider_reference)
        raise
    await notify.order_placed(session, user, order)
    await notify.stock_taken(session, taken.left, settings.stock_low_threshold)
    return order


async def _variants_of(
    session: UnitOfWork, lines: Sequence[OrderLineCreate]
) -> list[tuple[OrderLineCreate, ProductVariant, Product]]:
    """The variant each line buys: the one it names, or the product's one variant for sale.

    An unknown or archived product or variant (or a variant of another product
    than the line names) is 422 `unknown_product`; a product of several
    variants without a `variant_id` is 422 `variant_required`.
    """
    variants = await repository.variants_for_sale(session, [line.variant_id for line in lines if line.variant_id])
    products = await repository.products_for_sale(
        session, [line.product_id for line in lines if line.variant_id is None and line.product_id]
    )
    chosen: list[tuple[OrderLineCreate, ProductVariant, Product]] = []
    unknown_products: set[int] = set()
    unknown_variants: set[int] = set()
    several: set[int] = set()
    for line in lines:
        if line.variant_id is not None:
            variant = variants.get(line.variant_id)
            if variant is None or line.product_id not in (None, variant.product_id):
                unknown_variants.add(line.variant_id)
                continue
            chosen.append((line, variant, variant.product))
            continue
        product_id = line.product_id or 0
        product = products.get(product_id)
        active = product.active_variants if product is not None else []
        if product is None or not active:
            unknown_products.add(product_id)
        elif len(active) > 1:
            several.add(product_id)
        else:
            chosen.append((line, active[0], product))
    if unknown_products or unknown_variants:
        raise UnknownProduct(unknown_products, unknown_variants)
    if several:
        raise VariantRequired(several)
    return chosen


def etag(order: Order) -> str:
    """The order's ETag: whoever answers with an order (`/orders`, a cart's checkout) sends this one."""
    return make_etag("order", order.id, order.version)


def payment_of(order: Order) -> Payment:
    """The order's payment record; 404 `payment_not_found` for an order placed before payments were recorded."""
    if order.payment is None:
        raise PaymentNotFound()
    return order.payment


def may_cancel(actor: User, order: Order) -> bool:
    if actor.is_staff:
        return order.status in (OrderStatus.pending, OrderStatus.paid)
    return order.user_id == actor.id and order.status == OrderStatus.pending


async def cancel(session: UnitOfWork, actor: User, order: Order) -> Order:
    """Cancel and put the stock back, in the same transaction."""
    if not may_cancel(actor, order):
        raise InvalidTransition(f"An order that is {order.status} cannot be cancelled by you.")
    await _release(session, order)
    payments.abandoned(order)
    return await move(session, order, OrderStatus.cancelled)


async def change_status(session: UnitOfWork, actor: User, order: Order, status: OrderStatus) -> Order:
    """Move an order along pending → paid → shipped → delivered, or cancel it."""
    if status == OrderStatus.cancelled:
        return await cancel(session, actor, order)
    if NEXT_STATUS.get(order.status) != status:
        raise InvalidTransition(f"An order cannot go from {order.status} to {status}.")
    if status == OrderStatus.paid:
        payments.succeeded(order)
    return await move(session, order, status)


async def expire(session: UnitOfWork, order_id: int, now: datetime) -> Order | None:
    """Cancel one order left unpaid past its `payment_due_at`, if it still is: the order, or None.

    The claim is the conditional UPDATE (`repository.claim_unpaid`): of any number of
    workers trying the same order, one changes the row and the others find it no longer
    pending. Its stock is returned in the same transaction, so a worker that dies before
    committing leaves the order pending, stock taken, for the next run.
    """
    if not await repository.claim_unpaid(session, order_id, now):
        return None
    order = await repository.get_claimed(session, order_id)
    await _release(session, order)
    payments.abandoned(order)
    await session.flush()
    await notify.status_changed(session, order, str(OrderStatus.pending), email="order_expired")
    return order


async def _release(session: UnitOfWork, order: Order) -> None:
    """What a cancelled order gives back, whoever cancels it (its owner, staff, the payment
    deadline): each line's stock (unless a refund restocked it) and the use of its discount code."""
    await restock(session, order)
    if order.discount_id is not None:
        await rules.release_discount(session, order.discount_id, order.user_id)


async def restock(session: UnitOfWork, order: Order) -> bool:
    """Put the order's lines back in stock, once in its life (a cancel, a refund that restocks):
    True if this call did. The caller holds the order's row (`WritableOrder`, the webhook's lock)."""
    if order.stock_returned:
        return False
    returned = [repository.Line(item.product_id, item.variant_id, item.quantity) for item in order.items]
    await repository.return_stock(session, returned)
    order.stock_returned = True
    session.evict(*(line.product_id for line in returned))
    return True


async def move(session: UnitOfWork, order: Order, status: OrderStatus, *, email: str | None = "order_status") -> Order:
    """Set the status and tell of it: `order.status_changed`, and the `email` template to the
    customer (None: the caller sends its own, a receipt or a refund notice)."""
    previous = str(order.status)
    order.status = status
    await session.flush()
    await notify.status_changed(session, order, previous, email=email)
    return order
