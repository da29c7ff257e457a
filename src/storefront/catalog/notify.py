"""Catalog events, recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from storefront.catalog.schemas import ProductRead
from storefront.models import Audience, Product
from storefront.uow import UnitOfWork


async def product_changed(uow: UnitOfWork, type_: str, product: Product) -> None:
    """`product.created`, `product.updated` or `product.archived`: public, with the
    product as read (its variants included); its cached read is evicted everywhere once committed."""
    data = ProductRead.model_validate(product).model_dump(mode="json")
    await uow.record_event(type_, data, audience=Audience.public)
    uow.evict(product.id)


@dataclass(frozen=True, slots=True)
class Lowered:
    """Stock just taken from a variant: how much, and what is left."""

    product_id: int
    variant_id: int
    sku: str | None
    stock: int
    taken: int


async def stock_lowered(uow: UnitOfWork, lowered: Iterable[Lowered], threshold: int) -> None:
    """`stock.low` (staff only) for each variant whose stock just fell to `threshold` or below."""
    for change in sorted(lowered, key=lambda change: change.variant_id):
        if change.stock <= threshold < change.stock + change.taken:
            data = {
                "product_id": change.product_id,
                "variant_id": change.variant_id,
                "sku": change.sku,
                "stock": change.stock,
            }
            await uow.record_event("stock.low", data, audience=Audience.staff)
