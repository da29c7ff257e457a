"""Catalog rules. Services flush, never commit: the request boundary does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from storefront.cache import CachedProduct, ProductCache
from storefront.catalog import notify, repository
from storefront.catalog.errors import InsufficientStock, ProductNotFound, SkuTaken, StockLimitExceeded
from storefront.catalog.schemas import MAX_STOCK, ProductCreate, ProductRead, ProductReplace, ProductUpdate
from storefront.kit.etag import make_etag
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Product, User
from storefront.uow import UnitOfWork

SORTABLE: dict[str, Sortable] = {
    "name": Product.name,
    "price": Product.price,
    "created_at": Product.created_at,
    "stock": Product.stock,
}


@dataclass(frozen=True, slots=True)
class ProductFilters:
    """What a product list is narrowed by; `None` leaves a criterion out."""

    category: str | None = None
    in_stock: bool | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    q: str | None = None


async def list_products(
    session: UnitOfWork, viewer: User | None, filters: ProductFilters, page: Page, sort: Sort
) -> PageOf[Product]:
    """One page of the products `viewer` may read, narrowed by `filters`, in `sort` order."""
    query = repository.search(
        repository.readable_by(viewer),
        category=filters.category,
        in_stock=filters.in_stock,
        min_price=filters.min_price,
        max_price=filters.max_price,
        q=filters.q,
    )
    return await fetch(session, query.order_by(*order_by(SORTABLE[sort.field], sort, Product.id)), page)


async def read_serialised(
    session: UnitOfWork, cache: ProductCache, product_id: int, *, viewer: User | None
) -> CachedProduct:
    """The product as response bytes with its ETag, from the read cache or (one
    caller at a time) the database, if `viewer` may read it; else 404."""

    async def from_database() -> CachedProduct | None:
        product = await repository.get(session, product_id)
        if product is None:
            return None
        body = ProductRead.model_validate(product).model_dump_json().encode()
        return cache.entry(body, make_etag("product", product.id, product.version), archived=product.archived)

    cached = await cache.load(product_id, from_database)
    if cached is None or (cached.archived and not repository.sees_archived(viewer)):
        raise ProductNotFound()
    return cached


async def create(session: UnitOfWork, data: ProductCreate) -> Product:
    await _ensure_sku_free(session, data.sku, product_id=None)
    product = Product(**data.model_dump(), archived=False)
    session.add(product)
    await _flush(session)
    await notify.product_changed(session, "product.created", product)
    return product


async def replace(session: UnitOfWork, product: Product, data: ProductReplace) -> Product:
    return await _apply(session, product, data.model_dump())


async def update(session: UnitOfWork, product: Product, data: ProductUpdate) -> Product:
    return await _apply(session, product, data.changes())


async def archive(session: UnitOfWork, product: Product) -> None:
    """Archive instead of delete: past orders keep their lines."""
    if product.archived:
        return
    product.archived = True
    await session.flush()
    await notify.product_changed(session, "product.archived", product)


async def adjust_stock(session: UnitOfWork, product: Product, delta: int, *, stock_low_threshold: int) -> Product:
    """Add `delta` (negative to take) to the stock in one atomic statement."""
    if not await repository.add_stock(session, product.id, delta, ceiling=MAX_STOCK):
        if delta < 0:
            raise InsufficientStock([product.id])
        raise StockLimitExceeded(product.id, MAX_STOCK)
    await session.refresh(product)
    await notify.product_changed(session, "product.updated", product)
    if delta < 0:
        await notify.stock_lowered(session, {product.id: -delta}, stock_low_threshold)
    return product


async def _apply(session: UnitOfWork, product: Product, changes: dict[str, object]) -> Product:
    sku = changes.get("sku")
    await _ensure_sku_free(session, sku if isinstance(sku, str) else None, product_id=product.id)
    for field, value in changes.items():
        setattr(product, field, value)
    await _flush(session)
    await notify.product_changed(session, "product.updated", product)
    return product


async def _ensure_sku_free(session: UnitOfWork, sku: str | None, *, product_id: int | None) -> None:
    if sku is not None and await repository.sku_taken(session, sku, excluding=product_id):
        raise SkuTaken()


async def _flush(session: UnitOfWork) -> None:
    # Two racing writers can both pass the SKU check; the unique index decides.
    try:
        await session.flush()
    except IntegrityError as exc:
        raise SkuTaken() from exc
