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
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Order, OrderItem, OrderStatus, Payment, Product, ProductVariant, User
from storefront.orders import notify, repository
from storefront.orders.errors import InvalidTransition, UnknownProduct, VariantRequired
from storefront.orders.schemas import OrderCreate, OrderLineCreate
from storefront.payments import service as payments
from storefront.payments.errors import PaymentNotFound
from storefront.payments.provider import PaymentProvider
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
class PricingInputs:
    """What prices an order beyond its lines: the discount, shipping method and tax rate
    that a cart or `POST /orders` resolved from the rules (none yet: the subtotal is the total)."""

    discount_code: str | None = None
    discount: pricing.Discount | None = None
    shipping_method: str | None = None
    shipping: pricing.Shipping | None = None
    tax_rate: Decimal | None = None  # a percentage, the shipping country's
    prices_include_tax: bool = True


NO_RULES = PricingInputs()


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
    currency: str,
    stock_low_threshold: int,
    inputs: PricingInputs = NO_RULES,
) -> Order:
    """Take stock for every line or none, record the order at today's prices as `inputs`
    price it, and start its payment. A provider that fails rolls it all back (502)."""
    chosen = await _variants_of(session, data.items)
    lines = [repository.Line(product.id, variant.id, line.quantity) for line, variant, product in chosen]
    taken = await repository.take_stock(session, lines, {variant.id: variant.sku for _, variant, _ in chosen})
    if not taken:
        raise InsufficientStock(taken.short_products, taken.short_variants)
    breakdown = pricing.price(
        [pricing.Line(variant.price, line.quantity) for line, variant, _ in chosen],
        discount=inputs.discount,
        shipping=inputs.shipping,
        tax_rate=inputs.tax_rate,
        prices_include_tax=inputs.prices_include_tax,
    )
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
        discount_code=inputs.discount_code,
        discount_total=breakdown.discount_total,
        shipping_method=inputs.shipping_method,
        shipping_total=breakdown.shipping_total,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        currency=currency,
        shipping_address=data.shipping_address.stored() if data.shipping_address is not None else None,
        note=data.note,
    )
    session.add(order)
    await session.flush()
    await payments.start(session, payment_provider, order, user)
    await notify.order_placed(session, user, order)
    await notify.stock_taken(session, taken.left, stock_low_threshold)
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
    return await _move(session, order, OrderStatus.cancelled)


async def change_status(session: UnitOfWork, actor: User, order: Order, status: OrderStatus) -> Order:
    """Move an order along pending → paid → shipped → delivered, or cancel it."""
    if status == OrderStatus.cancelled:
        return await cancel(session, actor, order)
    if NEXT_STATUS.get(order.status) != status:
        raise InvalidTransition(f"An order cannot go from {order.status} to {status}.")
    if status == OrderStatus.paid:
        payments.succeeded(order)
    return await _move(session, order, status)


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
    deadline): each line's stock, and the products' cached reads go.

    The one place a cancellation returns what the order took: the use of its discount
    code is to be returned here too, once orders carry one (the discount rules' `release_discount`).
    """
    returned = [repository.Line(item.product_id, item.variant_id, item.quantity) for item in order.items]
    await repository.return_stock(session, returned)
    session.evict(*(line.product_id for line in returned))


async def _move(session: UnitOfWork, order: Order, status: OrderStatus) -> Order:
    previous = str(order.status)
    order.status = status
    await session.flush()
    await notify.status_changed(session, order, previous)
    return order
