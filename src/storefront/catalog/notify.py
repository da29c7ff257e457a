"""Catalog events, recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from storefront.catalog.schemas import ProductRead
from storefront.models import Audience, Product
from storefront.uow import UnitOfWork


async def product_changed(uow: UnitOfWork, type_: str, product: Product) -> None:
    """`product.created`, `product.updated` or `product.archived`: public, with the
    product as read; its cached read is evicted everywhere once committed."""
    data = ProductRead.model_validate(product).model_dump(mode="json")
    await uow.record_event(type_, data, audience=Audience.public)
    uow.evict(product.id)


async def stock_lowered(uow: UnitOfWork, taken: Mapping[int, int], threshold: int) -> None:
    """`stock.low` (staff only) for each product whose stock just fell to `threshold` or below."""
    rows = (await uow.execute(select(Product.id, Product.stock).where(Product.id.in_(taken)))).all()
    for product_id, stock in sorted(rows):
        if stock <= threshold < stock + taken[product_id]:
            await uow.record_event("stock.low", {"product_id": product_id, "stock": stock}, audience=Audience.staff)
