"""Product queries, including the one "who may see this" filter."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, Select, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.db import utcnow
from storefront.kit.search import contains_pattern
from storefront.models import Product, User


def readable_by(viewer: User | None) -> Select[Product]:
    """Products `viewer` (`None`: an anonymous caller) may read: lists, reads and exports."""
    query = select(Product)
    return query if sees_archived(viewer) else query.where(Product.archived.is_(False))


def sees_archived(viewer: User | None) -> bool:
    """Archived products are for staff and admins only (the cached read checks this too)."""
    return viewer is not None and viewer.is_staff


async def get(session: AsyncSession, product_id: int) -> Product | None:
    """One product, archived or not, whoever asks: the read cache holds both."""
    return await session.get(Product, product_id)


async def get_readable(
    session: AsyncSession, viewer: User | None, product_id: int, *, for_update: bool = False
) -> Product | None:
    """One product `viewer` may read; `for_update` locks its row until the transaction ends.

    A write that checks `If-Match` and then updates must hold the row: two
    writers that both read the old version would otherwise both pass the check,
    and the loser's versioned UPDATE would fail as stale data (a 500).
    """
    query = readable_by(viewer).where(Product.id == product_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


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


async def add_stock(session: AsyncSession, product_id: int, delta: int, *, ceiling: int | None = None) -> bool:
    """Change stock atomically in one statement; False if it would leave 0..ceiling.

    A conditional UPDATE, never read-then-write: concurrent callers cannot
    both take the last unit. The bound is compared against `stock` itself, not
    `stock + delta`, so the check cannot overflow the integer column. Without a
    `ceiling` only the floor (zero) is enforced.
    """
    in_range: ColumnElement[bool]
    if delta < 0:
        in_range = Product.stock >= -delta
    elif ceiling is not None:
        in_range = Product.stock <= ceiling - delta
    else:
        in_range = true()
    result = await session.execute(
        update(Product)
        .where(Product.id == product_id, in_range)
        .values(stock=Product.stock + delta, version=Product.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
