"""Variant and option rules: what a customer buys is one combination of a product's option values.

Every change here runs with the product's row held (`WritableProduct`): two
changes of one product's variants run one after the other, and the product's
price, stock and version follow in the same transaction (`service.retotal`).
"""

from __future__ import annotations

from collections.abc import Mapping

from storefront.catalog import notify, repository, service
from storefront.catalog.errors import (
    InvalidOptions,
    OptionsInUse,
    StockLimitExceeded,
    TooManyVariants,
    VariantExists,
    VariantNotFound,
)
from storefront.catalog.schemas import MAX_STOCK, MAX_VARIANTS, OptionsReplace, VariantCreate, VariantUpdate
from storefront.kit.pagination import Page, PageOf, fetch
from storefront.kit.storage import Storage
from storefront.models import Product, ProductOption, ProductVariant, User, option_key
from storefront.uow import UnitOfWork


async def list_variants(
    session: UnitOfWork, viewer: User | None, product: Product, page: Page
) -> PageOf[ProductVariant]:
    """One page of the product's variants `viewer` may read, in the product's order."""
    query = repository.variants_readable_by(viewer, product.id)
    return await fetch(session, query.order_by(ProductVariant.position, ProductVariant.id), page)


def find(product: Product, variant_id: int, viewer: User | None) -> ProductVariant:
    """The product's variant `variant_id` if `viewer` may read it (archived ones: staff only); else 404."""
    for variant in product.variants:
        if variant.id == variant_id and (not variant.archived or repository.sees_archived(viewer)):
            return variant
    raise VariantNotFound()


async def create(session: UnitOfWork, product: Product, data: VariantCreate) -> ProductVariant:
    """A new variant: one value for each of the product's options, a combination it does not have yet."""
    options = checked_options(product, data.options)
    key = option_key(options)
    active = product.active_variants
    if any(variant.option_key == key for variant in active):
        raise VariantExists()
    if len(active) >= MAX_VARIANTS:
        raise TooManyVariants(MAX_VARIANTS)
    if product.stock + data.stock > MAX_STOCK:
        raise StockLimitExceeded(product.id, MAX_STOCK)
    await service.ensure_sku_free(session, data.sku, variant_id=None)
    variant = ProductVariant(
        sku=data.sku,
        options=options,
        option_key=key,
        price=data.price if data.price is not None else product.price,
        stock=data.stock,
        archived=False,
        position=max((variant.position for variant in product.variants), default=-1) + 1,
    )
    product.variants.append(variant)
    return await _changed(session, product, variant)


async def update(
    session: UnitOfWork, storage: Storage, product: Product, variant: ProductVariant, data: VariantUpdate
) -> ProductVariant:
    """Change the fields sent (`sku`, `price`; `image: null` removes the variant's image)."""
    changes = data.changes()
    if "sku" in changes:
        await service.ensure_sku_free(session, changes["sku"], variant_id=variant.id)
        variant.sku = changes["sku"]
    if "price" in changes:
        variant.price = changes["price"]
    if "image" in changes and variant.image_key is not None:
        previous, variant.image_key = variant.image_key, None
        session.after_commit(lambda: storage.delete(previous))
    return await _changed(session, product, variant)


async def archive(session: UnitOfWork, product: Product, variant: ProductVariant) -> None:
    """Archive instead of delete: past order lines keep pointing at it; its combination may be offered again."""
    if variant.archived:
        return
    variant.archived = True
    variant.option_key = None
    await _changed(session, product, variant)


async def adjust_stock(
    session: UnitOfWork, product: Product, variant: ProductVariant, delta: int, *, stock_low_threshold: int
) -> ProductVariant:
    """Add `delta` (negative to take) to the variant's stock; never below zero."""
    await service.change_stock(session, product, variant, delta, stock_low_threshold=stock_low_threshold)
    return variant


async def replace_options(session: UnitOfWork, product: Product, data: OptionsReplace) -> Product:
    """Set the product's options. A variant keeps its values, takes the first value of
    an option it had none for, and may lose none (409 `options_in_use`)."""
    wanted = [(option.name, option.values) for option in data.options]
    names = {name for name, _ in wanted}
    remapped: dict[int, dict[str, str]] = {}
    losing: list[int] = []
    for variant in product.active_variants:
        kept = set(variant.options) <= names and all(
            variant.options[name] in values for name, values in wanted if name in variant.options
        )
        if not kept:
            losing.append(variant.id)
            continue
        remapped[variant.id] = {name: variant.options.get(name, values[0]) for name, values in wanted}
    if losing:
        raise OptionsInUse(losing)
    # The old rows go first: a name kept from them would clash with its new row in one flush.
    product.options.clear()
    await session.flush()
    product.options.extend(
        ProductOption(position=position, name=name, values=list(values))
        for position, (name, values) in enumerate(wanted)
    )
    for variant in product.active_variants:
        variant.options = remapped[variant.id]
        variant.option_key = option_key(variant.options)
    service.retotal(product)
    await service.flush(session)
    await notify.product_changed(session, "product.updated", product)
    return product


def checked_options(product: Product, given: Mapping[str, str]) -> dict[str, str]:
    """`given` in the product's option order, if it names one of its values for each of its options; else 422."""
    offered = {option.name: option.values for option in product.options}
    if set(given) != set(offered):
        expected = ", ".join(offered) or "none"
        raise InvalidOptions(f"Give one value for each of the product's options (they are: {expected}).")
    for name, value in given.items():
        if value not in offered[name]:
            raise InvalidOptions(f"{name} has no value {value!r}; it has: {', '.join(offered[name])}.")
    return {option.name: given[option.name] for option in product.options}


async def _changed(session: UnitOfWork, product: Product, variant: ProductVariant) -> ProductVariant:
    service.retotal(product)
    await service.flush(session)
    await notify.product_changed(session, "product.updated", product)
    return variant
