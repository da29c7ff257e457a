"""Product queries, including the one "who may see this" filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, inspect, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storefront.db import utcnow
from storefront.kit.search import contains_pattern
from storefront.models import Product, ProductVariant, User

# What a product's body shows beside its own columns; loaded with it, never lazily.
PARTS = ("options", "variants")
WITH_PARTS = (selectinload(Product.options), selectinload(Product.variants))


def readable_by(viewer: User | None) -> Select[Product]:
    """Products `viewer` (`None`: an anonymous caller) may read: lists, reads and exports."""
    query = select(Product).options(*WITH_PARTS)
    return query if sees_archived(viewer) else query.where(Product.archived.is_(False))


def sees_archived(viewer: User | None) -> bool:
    """Archived products are for staff and admins only (the cached read checks this too)."""
    return viewer is not None and viewer.is_staff


async def get(session: AsyncSession, product_id: int) -> Product | None:
    """One product, archived or not, whoever asks: the read cache holds both."""
    return (await session.scalars(select(Product).options(*WITH_PARTS).where(Product.id == product_id))).first()


async def with_parts(session: AsyncSession, product: Product) -> Product:
    """`product` with its options and variants loaded (a caller may hold one loaded without them)."""
    missing = [name for name in PARTS if name in inspect(product).unloaded]
    if missing:
        await session.refresh(product, missing)
    return product


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
    options: Mapping[str, str] | None = None,
) -> Select[Product]:
    if category is not None:
        query = query.where(func.lower(Product.category) == category.lower())
    if options:
        # With option values asked for, `in_stock` is about the variant that has them.
        query = query.where(_has_variant(options, in_stock))
    elif in_stock is not None:
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


def _has_variant(options: Mapping[str, str], in_stock: bool | None) -> ColumnElement[bool]:
    """An active variant of the product has each of these option values (and is, or is not, in stock)."""
    variant = select(ProductVariant.id).where(
        ProductVariant.product_id == Product.id, ProductVariant.archived.is_(False)
    )
    for name, value in options.items():
        variant = variant.where(ProductVariant.options[name].as_string() == value)
    if in_stock is not None:
        variant = variant.where(ProductVariant.stock > 0 if in_stock else ProductVariant.stock == 0)
    return exists(variant)


async def sku_taken(session: AsyncSession, sku: str, *, excluding: int | None = None) -> bool:
    """Whether a variant (of any product, archived ones too) other than variant `excluding` has `sku`."""
    query = select(ProductVariant.id).where(ProductVariant.sku == sku)
    if excluding is not None:
        query = query.where(ProductVariant.id != excluding)
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


# What an order runs once per line, built once: building these expressions
# cost more CPU than SQLite spent running them.
_TAKE_PRODUCT_STOCK = (
    update(Product)
    .where(Product.id == bindparam("product_id"), Product.stock >= bindparam("quantity"))
    .values(stock=Product.stock - bindparam("quantity"), version=Product.version + 1, updated_at=bindparam("now"))
    .execution_options(synchronize_session=False)
)
_TAKE_VARIANT_STOCK = (
    update(ProductVariant)
    .where(
        ProductVariant.id == bindparam("variant_id"),
        ProductVariant.stock >= bindparam("quantity"),
        ProductVariant.archived.is_(False),
    )
    .values(
        stock=ProductVariant.stock - bindparam("quantity"),
        version=ProductVariant.version + 1,
        updated_at=bindparam("now"),
    )
    .returning(ProductVariant.stock)
    .execution_options(synchronize_session=False)
)


async def take_stock(session: AsyncSession, product_id: int, quantity: int) -> bool:
    """`add_stock(session, product_id, -quantity)`, from a prebuilt statement."""
    params = {"product_id": product_id, "quantity": quantity, "now": utcnow()}
    return bool((await session.execute(_TAKE_PRODUCT_STOCK, params)).rowcount)  # type: ignore[attr-defined]


async def take_variant_stock(session: AsyncSession, variant_id: int, quantity: int) -> int | None:
    """`add_variant_stock(session, variant_id, -quantity, for_sale=True)`, from a prebuilt statement."""
    params = {"variant_id": variant_id, "quantity": quantity, "now": utcnow()}
    return (await session.execute(_TAKE_VARIANT_STOCK, params)).scalar_one_or_none()


async def add_variant_stock(
    session: AsyncSession, variant_id: int, delta: int, *, for_sale: bool = False
) -> int | None:
    """Change a variant's stock atomically in one statement: its new stock, or None
    if that would be below zero (or, `for_sale`, the variant is archived).

    The caller holds its product's row (`add_stock`, `lock`): every change of a
    variant's stock locks the product first, so two changes never wait on each other crosswise.
    """
    in_range = ProductVariant.stock >= -delta if delta < 0 else true()
    condition = [ProductVariant.id == variant_id, in_range]
    if for_sale:
        condition.append(ProductVariant.archived.is_(False))
    result = await session.execute(
        update(ProductVariant)
        .where(*condition)
        .values(stock=ProductVariant.stock + delta, version=ProductVariant.version + 1, updated_at=utcnow())
        .returning(ProductVariant.stock)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def lock(session: AsyncSession, product_ids: Sequence[int]) -> None:
    """Hold these products' rows until the transaction ends, taken in ascending id order."""
    await session.execute(select(Product.id).where(Product.id.in_(product_ids)).order_by(Product.id).with_for_update())


async def recount_stock(session: AsyncSession, product_ids: Sequence[int]) -> None:
    """Set each product's stock to the sum of its active variants' (rows already held: `lock`)."""
    active = (
        select(func.coalesce(func.sum(ProductVariant.stock), 0))
        .where(ProductVariant.product_id == Product.id, ProductVariant.archived.is_(False))
        .scalar_subquery()
    )
    await session.execute(
        update(Product)
        .where(Product.id.in_(product_ids))
        .values(stock=active, version=Product.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def variants_readable_by(viewer: User | None, product_id: int) -> Select[ProductVariant]:
    """The variants of one product `viewer` may read: archived ones for staff only."""
    query = select(ProductVariant).where(ProductVariant.product_id == product_id)
    return query if sees_archived(viewer) else query.where(ProductVariant.archived.is_(False))


async def get_variant(
    session: AsyncSession, viewer: User | None, product_id: int, variant_id: int
) -> ProductVariant | None:
    query = variants_readable_by(viewer, product_id).where(ProductVariant.id == variant_id)
    return (await session.scalars(query)).first()
