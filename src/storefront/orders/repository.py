"""Order queries, including the one "who may see this" filter."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, selectinload

from storefront.catalog import repository as catalog
from storefront.catalog.notify import Lowered
from storefront.db import utcnow
from storefront.models import Order, OrderStatus, Product, ProductVariant, User


def _whole() -> Select[Order]:
    """Orders with what every read of one shows: its lines and its payment."""
    return select(Order).options(selectinload(Order.items), selectinload(Order.payment))


def readable_by(viewer: User) -> Select[Order]:
    """Orders `viewer` may read (staff and admins all, customers their own): lists, reads and exports."""
    query = _whole()
    return query if viewer.is_staff else query.where(Order.user_id == viewer.id)


async def get_readable(session: AsyncSession, viewer: User, order_id: int, *, for_update: bool = False) -> Order | None:
    query = readable_by(viewer).where(Order.id == order_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


def _unpaid_past(now: datetime) -> list[ColumnElement[bool]]:
    return [Order.status == OrderStatus.pending, Order.payment_due_at < now]


async def unpaid_past_due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Ids of orders still pending after their payment was due, longest overdue first."""
    query = select(Order.id).where(*_unpaid_past(now)).order_by(Order.payment_due_at, Order.id).limit(limit)
    return list(await session.scalars(query))


async def claim_unpaid(session: AsyncSession, order_id: int, now: datetime) -> bool:
    """Cancel the order if it is still pending past its due time, in one conditional UPDATE:
    True for the one transaction that changed it. A concurrent claim waits for this row
    (PostgreSQL) or for the write lock (SQLite), then finds it cancelled and changes nothing."""
    result = await session.execute(
        update(Order)
        .where(Order.id == order_id, *_unpaid_past(now))
        .values(status=OrderStatus.cancelled, version=Order.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_locked(session: AsyncSession, order_id: int) -> Order:
    """An order with its row locked until the transaction ends (PostgreSQL; SQLite's one writer
    already is), read afresh: what a provider's webhook changes, one event at a time."""
    query = _whole().where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).one()


async def get_claimed(session: AsyncSession, order_id: int) -> Order:
    """An order this transaction has just changed with a statement, read afresh."""
    query = _whole().where(Order.id == order_id).execution_options(populate_existing=True)
    return (await session.scalars(query)).one()


def search(query: Select[Order], *, user_id: int | None, status: OrderStatus | None) -> Select[Order]:
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if status is not None:
        query = query.where(Order.status == status)
    return query


_PRODUCTS_FOR_SALE = (  # built once: an order runs it every time
    select(Product)
    .where(Product.id.in_(bindparam("ids", expanding=True)), Product.archived.is_(False))
    .options(selectinload(Product.variants))
)


async def products_for_sale(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, Product]:
    """Products not archived, with their variants (to find a product's one variant for sale)."""
    if not product_ids:
        return {}
    found = await session.scalars(_PRODUCTS_FOR_SALE, {"ids": list(product_ids)})
    return {product.id: product for product in found}


async def variants_for_sale(session: AsyncSession, variant_ids: Sequence[int]) -> dict[int, ProductVariant]:
    """Variants not archived, of products not archived, each with its product."""
    if not variant_ids:
        return {}
    query = (
        select(ProductVariant)
        .join(ProductVariant.product)
        .where(ProductVariant.id.in_(variant_ids), ProductVariant.archived.is_(False), Product.archived.is_(False))
        .options(contains_eager(ProductVariant.product))
    )
    return {variant.id: variant for variant in await session.scalars(query)}


@dataclass(frozen=True, slots=True)
class Line:
    """A quantity of one variant of one product."""

    product_id: int
    variant_id: int
    quantity: int


@dataclass
class Taken:
    """What `take_stock` did: the products and variants short of stock (the caller then rolls back), what is left."""

    short_products: set[int] = field(default_factory=set)
    short_variants: set[int] = field(default_factory=set)
    left: list[Lowered] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not (self.short_products or self.short_variants)


async def take_stock(session: AsyncSession, lines: Sequence[Line], skus: dict[int, str | None]) -> Taken:
    """Take each line's quantity from its variant, and from its product's total.

    Conditional UPDATEs (`stock >= quantity`), never read then written: for
    each product in ascending id order, its row first (its total), then its
    variants in ascending id order. Every change of a variant's stock takes its
    product's row first, so two orders (or an order and a staff edit) wait for
    each other in one order and cannot deadlock. The caller rolls back when any line fails.
    """
    taken = Taken()
    for product_id, wanted in sorted(_by_product(lines).items()):
        if not await catalog.take_stock(session, product_id, sum(wanted.values())):
            taken.short_products.add(product_id)
        for variant_id, quantity in sorted(wanted.items()):
            left = await catalog.take_variant_stock(session, variant_id, quantity)
            if left is None:
                taken.short_products.add(product_id)
                taken.short_variants.add(variant_id)
            else:
                taken.left.append(Lowered(product_id, variant_id, skus.get(variant_id), stock=left, taken=quantity))
    return taken


async def return_stock(session: AsyncSession, lines: Sequence[Line]) -> None:
    """Put each line's quantity back on its variant (archived or not); its product's total follows."""
    by_product = _by_product(lines)
    await catalog.lock(session, sorted(by_product))
    for _, returned in sorted(by_product.items()):
        for variant_id, quantity in sorted(returned.items()):
            await catalog.add_variant_stock(session, variant_id, quantity)
    await catalog.recount_stock(session, sorted(by_product))


def _by_product(lines: Sequence[Line]) -> dict[int, dict[int, int]]:
    grouped: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        grouped[line.product_id][line.variant_id] += line.quantity
    return grouped
