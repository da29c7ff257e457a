"""Catalog rules. Services flush, never commit: the request boundary does."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from storefront.cache import CachedProduct, ProductCache
from storefront.catalog import notify, repository
from storefront.catalog.errors import InsufficientStock, ProductNotFound, SkuTaken, StockLimitExceeded
from storefront.catalog.schemas import MAX_STOCK, ProductCreate, ProductRead, ProductReplace, ProductUpdate
from storefront.kit.etag import make_etag
from storefront.models import Product
from storefront.uow import UnitOfWork


async def read_serialised(session: UnitOfWork, cache: ProductCache, product_id: int, *, staff: bool) -> CachedProduct:
    """The product as response bytes with its ETag, from the read cache or (one
    caller at a time) the database; archived ones only for staff, else 404."""

    async def from_database() -> CachedProduct | None:
        product = await repository.get_visible(session, product_id, include_archived=True)
        if product is None:
            return None
        body = ProductRead.model_validate(product).model_dump_json().encode()
        return cache.entry(body, make_etag("product", product.id, product.version), archived=product.archived)

    cached = await cache.load(product_id, from_database)
    if cached is None or (cached.archived and not staff):
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
