"""Load-and-check dependencies for order ids in paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from storefront.auth.dependencies import CurrentUser
from storefront.context import SessionDep
from storefront.models import Order
from storefront.orders import repository
from storefront.orders.errors import OrderNotFound

OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The order's id.")]


async def _visible_order(order_id: OrderId, session: SessionDep, user: CurrentUser, request: Request) -> Order:
    """The order if the caller may see it (its owner, staff, admins); else 404, never 403.

    Writes lock the row so two concurrent changes of one order run one after the other.
    """
    writing = request.method not in ("GET", "HEAD")
    order = await repository.get_readable(session, user, order_id, for_update=writing)
    if order is None:
        raise OrderNotFound()
    return order


VisibleOrder = Annotated[Order, Depends(_visible_order)]
