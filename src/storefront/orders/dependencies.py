"""Load-and-check dependencies for order ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from storefront.auth.dependencies import CurrentUser
from storefront.context import SessionDep, WriteSession
from storefront.kit.schemas import MAX_ID
from storefront.models import Order, User
from storefront.orders import repository
from storefront.orders.errors import OrderNotFound
from storefront.uow import UnitOfWork

OrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="The order's id.")]


async def _visible_order(order_id: OrderId, session: SessionDep, user: CurrentUser) -> Order:
    """The order if the caller may see it (its owner, staff, admins); else 404, never 403."""
    return await _load(session, user, order_id, for_update=False)


async def _writable_order(order_id: OrderId, session: WriteSession, user: CurrentUser) -> Order:
    """As `VisibleOrder`, with its row locked: two changes of one order run one after the other."""
    return await _load(session, user, order_id, for_update=True)


async def _load(session: UnitOfWork, user: User, order_id: int, *, for_update: bool) -> Order:
    order = await repository.get_readable(session, user, order_id, for_update=for_update)
    if order is None:
        raise OrderNotFound()
    return order


VisibleOrder = Annotated[Order, Depends(_visible_order)]
WritableOrder = Annotated[Order, Depends(_writable_order)]
