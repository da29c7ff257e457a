"""Catalog events, recorded in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storefront.catalog.schemas import ProductRead
from storefront.db import after_commit, utcnow
from storefront.events import service as events
from storefront.events.schemas import PublishedEvent
from storefront.models import Audience, Product

EVICT = "cache.evict"


async def product_changed(session: AsyncSession, type_: str, product: Product) -> None:
    """`product.created`, `product.updated` or `product.archived`: public, with the product as read."""
    data = ProductRead.model_validate(product).model_dump(mode="json")
    await events.record(session, type_, data, audience=Audience.public)
    forget_after_commit(session, product.id)


def forget_after_commit(session: AsyncSession, *product_ids: int, everywhere: bool = False) -> None:
    """Evict these products from the read cache once the change commits: here at
    once, and with `everywhere` in every other process too (an internal message
    through the broker). Catalog changes need not ask: their `product.*` events
    reach every process and evict there."""
    database = session.info.get("database")
    cache = getattr(database, "product_cache", None)
    if cache is not None:
        after_commit(session, lambda: cache.evict(*product_ids))
    broker = getattr(database, "broker", None)
    if everywhere and broker is not None:
        message = PublishedEvent(
            id=0,
            type=EVICT,
            created_at=utcnow(),
            data={"product_ids": list(product_ids)},
            audience=Audience.internal,
            user_id=None,
        )
        after_commit(session, lambda: broker.publish([message]))


async def stock_lowered(session: AsyncSession, taken: Mapping[int, int], threshold: int) -> None:
    """`stock.low` (staff only) for each product whose stock just fell to `threshold` or below."""
    rows = (await session.execute(select(Product.id, Product.stock).where(Product.id.in_(taken)))).all()
    for product_id, stock in sorted(rows):
        if stock <= threshold < stock + taken[product_id]:
            await events.record(
                session, "stock.low", {"product_id": product_id, "stock": stock}, audience=Audience.staff
            )
