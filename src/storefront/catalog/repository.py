"""Product queries, including the one "who may see this" filter."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import utcnow
from storefront.kit.search import contains_pattern
from storefront.models import Product


def visible(include_archived: bool) -> Select[Product]:
    """Products a caller may see: archived ones only for staff and admins."""
    query = select(Product)
    return query if include_archived else query.where(Product.archived.is_(False))


async def get_visible(session: AsyncSession, product_id: int, include_archived: bool) -> Product | None:
    return (await session.scalars(visible(include_archived).where(Product.id == product_id))).first()


def search(
    query: Select[Product],
    *,
    category: str | None,
    in_stock: bool | None,
    min_price: Decimal | None,
    max_price: Decimal | None,
    q: str | None,
) -> Select[Product]:
    if category is not None:
        query = query.where(func.lower(Product.category) == category.lower())
    if in_stock is not None:
        query = query.where(Product.stock > 0 if in_stock else Product.stock == 0)
    if min_price is not None:
        query = query.where(Product.price >= min_price)
    if max_price is not None:
        query = query.where(Product.price <= max_price)
    if q:
        pattern = contains_pattern(q)
        query = query.where(
            or_(
                func.lower(Product.name).like(pattern, escape="\\"),
                func.lower(Product.description).like(pattern, escape="\\"),
            )
        )
    return query


async def sku_taken(session: AsyncSession, sku: str, *, excluding: int | None = None) -> bool:
    query = select(Product.id).where(Product.sku == sku)
    if excluding is not None:
        query = query.where(Product.id != excluding)
    return (await session.scalar(query.limit(1))) is not None


async def add_stock(session: AsyncSession, product_id: int, delta: int) -> bool:
    """Change stock atomically in one statement; False if it would go below zero.

    A conditional UPDATE, never read-then-write: concurrent callers cannot
    both take the last unit.
    """
    result = await session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock + delta >= 0)
        .values(stock=Product.stock + delta, version=Product.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
