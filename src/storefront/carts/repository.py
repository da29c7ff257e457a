"""Cart queries: a cart by its token's digest, with what its lines buy."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import contains_eager, selectinload

from storefront.models import Cart, CartItem, Product, ProductVariant


def digest(token: str) -> str:
    """What is stored of a token: a database dump alone opens no cart."""
    return hashlib.sha256(token.encode()).hexdigest()


_WITH_LINES = (
    selectinload(Cart.items).selectinload(CartItem.variant),
    selectinload(Cart.items).selectinload(CartItem.product),
)


async def by_token(session: AsyncSession, token: str, *, for_update: bool = False) -> Cart | None:
    """The cart whose token this is, with its lines, their variants and products.

    `for_update` holds the cart's row until the transaction ends: two changes
    (or two checkouts) of one cart run one after the other.
    """
    query = select(Cart).where(Cart.token_digest == digest(token)).options(*_WITH_LINES)
    if for_update:
        query = query.with_for_update(of=Cart)
    return (await session.scalars(query)).first()


async def variants_for_sale(session: AsyncSession, product_id: int) -> list[ProductVariant]:
    """The product's variants for sale, in their order, each with its product; none if it is archived or unknown."""
    query = (
        select(ProductVariant)
        .join(ProductVariant.product)
        .where(ProductVariant.product_id == product_id, ProductVariant.archived.is_(False), Product.archived.is_(False))
        .options(contains_eager(ProductVariant.product))
        .order_by(ProductVariant.position, ProductVariant.id)
    )
    return list(await session.scalars(query))
