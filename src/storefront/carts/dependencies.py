"""Load-and-check dependencies for cart tokens in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from storefront.auth.dependencies import OptionalUser
from storefront.carts import service
from storefront.carts.schemas import TOKEN_PATTERN
from storefront.context import SessionDep, WriteSession
from storefront.models import Cart

CartToken = Annotated[
    str, Path(min_length=32, max_length=32, pattern=TOKEN_PATTERN, description="The cart's token (its `id`).")
]


async def _held_cart(cart_id: CartToken, session: SessionDep, user: OptionalUser) -> Cart:
    """The cart if the caller may use it; else 404."""
    return await service.held(session, cart_id, user)


async def _writable_cart(cart_id: CartToken, session: WriteSession, user: OptionalUser) -> Cart:
    """As `HeldCart`, with its row locked: two changes of one cart run one after the other."""
    return await service.held(session, cart_id, user, for_update=True)


HeldCart = Annotated[Cart, Depends(_held_cart)]
WritableCart = Annotated[Cart, Depends(_writable_cart)]
