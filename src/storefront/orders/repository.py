"""Order queries, including the one "who may see this" filter."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storefront.catalog import repository as catalog
from storefront.models import Order, OrderStatus, Product, User


def readable_by(viewer: User) -> Select[Order]:
    """Orders `viewer` may read (staff and admins all, customers their own): lists, reads and exports."""
    query = select(Order).options(selectinload(Order.items))
    return query if viewer.is_staff else query.where(Order.user_id == viewer.id)


async def get_readable(session: AsyncSession, viewer: User, order_id: int, *, for_update: bool = False) -> Order | None:
    query = readable_by(viewer).where(Order.id == order_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


def search(query: Select[Order], *, user_id: int | None, status: OrderStatus | None) -> Select[Order]:
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    return query


async def products_for_sale(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, Product]:
    query = select(Product).where(Product.id.in_(product_ids), Product.archived.is_(False))
    return {product.id: product for product in await session.scalars(query)}


async def take_stock(session: AsyncSession, lines: Sequence[tuple[int, int]]) -> list[int]:
    """Take `quantity` of each `(product_id, quantity)`; the ids that had too little.

    One conditional UPDATE per line in ascending id order: stock is never read
    then written, and two orders lock rows in the same order, so they cannot
    deadlock each other. The caller rolls back when any line fails.
    """
    return [pid for pid, quantity in sorted(lines) if not await catalog.add_stock(session, pid, -quantity)]


async def return_stock(session: AsyncSession, lines: Sequence[tuple[int, int]]) -> None:
    for product_id, quantity in sorted(lines):
        await catalog.add_stock(session, product_id, quantity)
