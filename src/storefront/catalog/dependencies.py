"""Load-and-check dependencies for product and variant ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from storefront.auth.dependencies import OptionalUser
from storefront.catalog import repository, variants
from storefront.catalog.errors import ProductNotFound
from storefront.context import SessionDep, WriteSession
from storefront.kit.schemas import MAX_ID
from storefront.models import Product, ProductVariant

ProductId = Annotated[int, Path(ge=1, le=MAX_ID, description="The product's id.")]
VariantId = Annotated[int, Path(ge=1, le=MAX_ID, description="The variant's id (of this product).")]


async def _visible_product(product_id: ProductId, session: SessionDep, user: OptionalUser) -> Product:
    """The product if the caller may see it; archived ones only for staff. Else 404."""
    product = await repository.get_readable(session, user, product_id)
    if product is None:
        raise ProductNotFound()
    return product


async def _writable_product(product_id: ProductId, session: WriteSession, user: OptionalUser) -> Product:
    """As `VisibleProduct`, with its row locked for this request's write."""
    product = await repository.get_readable(session, user, product_id, for_update=True)
    if product is None:
        raise ProductNotFound()
    return product


VisibleProduct = Annotated[Product, Depends(_visible_product)]
WritableProduct = Annotated[Product, Depends(_writable_product)]


async def _visible_variant(variant_id: VariantId, product: VisibleProduct, user: OptionalUser) -> ProductVariant:
    """The product's variant if the caller may see it; archived ones only for staff. Else 404."""
    return variants.find(product, variant_id, user)


async def _writable_variant(variant_id: VariantId, product: WritableProduct, user: OptionalUser) -> ProductVariant:
    """As `VisibleVariant`, its product's row locked (every change of a variant takes it)."""
    return variants.find(product, variant_id, user)


VisibleVariant = Annotated[ProductVariant, Depends(_visible_variant)]
WritableVariant = Annotated[ProductVariant, Depends(_writable_variant)]
