"""Catalog rules. Services flush, never commit: the request boundary does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError

from storefront.cache import CachedPage, CachedProduct, ProductCache
from storefront.catalog import notify, repository
from storefront.catalog.errors import (
    InsufficientStock,
    ProductNotFound,
    SkuTaken,
    StockLimitExceeded,
    VariantRequired,
)
from storefront.catalog.schemas import MAX_STOCK, ProductCreate, ProductRead, ProductReplace, ProductUpdate
from storefront.db import utcnow
from storefront.kit.etag import make_etag
from storefront.kit.pagination import Page, PageOf, Sort, Sortable, fetch, order_by
from storefront.models import Product, ProductVariant, User, option_key
from storefront.uow import UnitOfWork

# Product fields that are the sole variant's: changed on it, or refused on a product of several.
VARIANT_FIELDS = ("price", "stock", "sku")

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
    # `option.<Name>=<value>`: an active variant has every one of these values.
    options: Mapping[str, str] = field(default_factory=dict)


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
        options=filters.options,
    )
    return await fetch(session, query.order_by(*order_by(SORTABLE[sort.field], sort, Product.id)), page)


_PAGE = TypeAdapter(list[ProductRead])


async def list_serialised(
    session: UnitOfWork, cache: ProductCache, viewer: User | None, filters: ProductFilters, page: Page, sort: Sort
) -> CachedPage:
    """One page of the list as response bytes with its total: from the read cache
    for what everyone sees, from the database for staff (who see archived products)."""

    async def from_database() -> tuple[bytes, int]:
        found = await list_products(session, viewer, filters, page, sort)
        return _PAGE.dump_json(_PAGE.validate_python(found.items, from_attributes=True)), found.total

    if repository.sees_archived(viewer) or not cache.enabled:
        body, total = await from_database()
        return CachedPage(body, total, expires=0)
    options = tuple(sorted(filters.options.items()))
    key = (filters.category, filters.in_stock, filters.min_price, filters.max_price, filters.q, options, page, sort)
    return await cache.page(key, from_database)


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
    """A product of one default variant (no options) carrying its price, stock and SKU."""
    await ensure_sku_free(session, data.sku, variant_id=None)
    fields = data.model_dump(exclude={"sku"})
    default = ProductVariant(
        sku=data.sku, options={}, option_key=option_key({}), price=data.price, stock=data.stock, archived=False
    )
    product = Product(**fields, archived=False, options=[], variants=[default])
    session.add(product)
    await flush(session)
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
    await repository.with_parts(session, product)
    product.archived = True
    await session.flush()
    await notify.product_changed(session, "product.archived", product)


async def adjust_stock(session: UnitOfWork, product: Product, delta: int, *, stock_low_threshold: int) -> Product:
    """Add `delta` (negative to take) to the stock of a product's one variant; 409 if it has several."""
    await repository.with_parts(session, product)
    sole = product.sole_variant
    if sole is None:
        raise VariantRequired("This product has several variants: adjust the stock of one of them.")
    await change_stock(session, product, sole, delta, stock_low_threshold=stock_low_threshold, name_variant=False)
    return product


async def change_stock(
    session: UnitOfWork,
    product: Product,
    variant: ProductVariant,
    delta: int,
    *,
    stock_low_threshold: int,
    name_variant: bool = True,
) -> None:
    """Add `delta` to `variant`'s stock, never below zero nor above the maximum, its product's with it.

    The caller holds the product's row (`WritableProduct`), which every change
    of its variants' stock takes first: what is read here cannot change before the commit.
    """
    after = variant.stock + delta
    if after < 0:
        raise InsufficientStock([product.id], [variant.id] if name_variant else ())
    if after > MAX_STOCK or (not variant.archived and product.stock + delta > MAX_STOCK):
        raise StockLimitExceeded(product.id, MAX_STOCK)
    variant.stock = after
    retotal(product)
    await session.flush()
    await notify.product_changed(session, "product.updated", product)
    if delta < 0:
        lowered = notify.Lowered(product.id, variant.id, variant.sku, stock=after, taken=-delta)
        await notify.stock_lowered(session, [lowered], stock_low_threshold)


def retotal(product: Product) -> None:
    """A variant of `product` changed: its price (the lowest for sale), its stock
    (theirs together) and its version (so its ETag) follow, in the same transaction."""
    active = product.active_variants
    prices = [variant.price for variant in active or product.variants]
    if prices:
        product.price = min(prices)
    product.stock = sum(variant.stock for variant in active)
    product.updated_at = utcnow()


async def _apply(session: UnitOfWork, product: Product, changes: dict[str, object]) -> Product:
    await repository.with_parts(session, product)
    moved = {name: changes.pop(name) for name in VARIANT_FIELDS if name in changes}
    sole = product.sole_variant
    if sole is None:
        # A product of several variants keeps what follows from them; sending it back unchanged is fine.
        if any(getattr(product, name) != value for name, value in moved.items()):
            raise VariantRequired("This product has several variants: change the price, stock or SKU of each.")
    elif moved:
        sku = moved.get("sku")
        await ensure_sku_free(session, sku if isinstance(sku, str) else None, variant_id=sole.id)
        for name, value in moved.items():
            setattr(sole, name, value)
        retotal(product)
    for name, value in changes.items():
        setattr(product, name, value)
    await flush(session)
    await notify.product_changed(session, "product.updated", product)
    return product


async def ensure_sku_free(session: UnitOfWork, sku: str | None, *, variant_id: int | None) -> None:
    """409 `sku_taken` when a variant other than `variant_id` (of any product) has `sku`."""
    if sku is not None and await repository.sku_taken(session, sku, excluding=variant_id):
        raise SkuTaken()


async def flush(session: UnitOfWork) -> None:
    # Two racing writers can both pass the SKU check; the unique index decides.
    try:
        await session.flush()
    except IntegrityError as exc:
        raise SkuTaken() from exc
