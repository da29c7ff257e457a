"""Order rules: what a viewer lists, all-or-nothing stock, server-side totals, the status machine.

Services flush, never commit: the request boundary does, so a failure
anywhere rolls back every stock change made for the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from storefront.catalog.errors import InsufficientStock
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Order, OrderItem, OrderStatus, User
from storefront.orders import notify, repository
from storefront.orders.errors import InvalidTransition, UnknownProduct
from storefront.orders.schemas import OrderCreate
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
    session: UnitOfWork, user: User, data: OrderCreate, *, currency: str, stock_low_threshold: int
) -> Order:
    """Take stock for every line or none, and record the order at today's prices."""
    wanted = [(line.product_id, line.quantity) for line in data.items]
    products = await repository.products_for_sale(session, [product_id for product_id, _ in wanted])
    if unknown := {product_id for product_id, _ in wanted} - products.keys():
        raise UnknownProduct(unknown)
    if short := await repository.take_stock(session, wanted):
        raise InsufficientStock(short)
    items = [
        OrderItem(
            product_id=product_id,
            name=products[product_id].name,
            unit_price=products[product_id].price,
            quantity=quantity,
            line_total=products[product_id].price * quantity,
        )
        for product_id, quantity in wanted
    ]
    subtotal = sum((item.line_total for item in items), start=Decimal("0.00"))
    order = Order(
        user_id=user.id,
        status=OrderStatus.pending,
        items=items,
        subtotal=subtotal,
        total=subtotal,
        currency=currency,
        shipping_address=data.shipping_address,
        note=data.note,
    )
    session.add(order)
    await session.flush()
    await notify.order_placed(session, user, order)
    await notify.stock_taken(session, wanted, stock_low_threshold)
    return order


def may_cancel(actor: User, order: Order) -> bool:
    if actor.is_staff:
        return order.status in (OrderStatus.pending, OrderStatus.paid)
    return order.user_id == actor.id and order.status == OrderStatus.pending


async def cancel(session: UnitOfWork, actor: User, order: Order) -> Order:
    """Cancel and put the stock back, in the same transaction."""
    if not may_cancel(actor, order):
        raise InvalidTransition(f"An order that is {order.status} cannot be cancelled by you.")
    returned = [(item.product_id, item.quantity) for item in order.items]
    await repository.return_stock(session, returned)
    session.evict(*(product_id for product_id, _ in returned))
    return await _move(session, order, OrderStatus.cancelled)


async def change_status(session: UnitOfWork, actor: User, order: Order, status: OrderStatus) -> Order:
    """Move an order along pending → paid → shipped → delivered, or cancel it."""
    if status == OrderStatus.cancelled:
        return await cancel(session, actor, order)
    if NEXT_STATUS.get(order.status) != status:
        raise InvalidTransition(f"An order cannot go from {order.status} to {status}.")
    return await _move(session, order, status)


async def _move(session: UnitOfWork, order: Order, status: OrderStatus) -> Order:
    previous = str(order.status)
    order.status = status
    await session.flush()
    await notify.status_changed(session, order, previous)
    return order
