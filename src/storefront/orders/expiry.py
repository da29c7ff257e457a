"""The payment deadline: an order still `pending` after its `payment_due_at` is cancelled, exactly once.

The worker runs `cancel_unpaid` every minute, in every process that runs one.
Each order is cancelled in a transaction of its own, claimed by a conditional
UPDATE (`service.expire`), so any number of workers may run it at once: each
order is claimed by one of them, its stock returned once, its email queued
once. A worker that fails or dies before committing leaves the order as it was,
pending with its stock taken, and the next run cancels it.
"""

from __future__ import annotations

from datetime import datetime

from storefront.database import Database
from storefront.db import utcnow
from storefront.log import get_logger
from storefront.orders import repository, service

log = get_logger("storefront.orders.expiry")
BATCH = 200


async def cancel_unpaid(database: Database, *, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Cancel up to `limit` orders left unpaid past their due time: the ids this run cancelled."""
    now = now or utcnow()
    async with database.read_session() as session:
        due = await repository.unpaid_past_due(session, now, limit)
    cancelled = []
    for order_id in due:
        try:
            async with database.transaction() as uow:
                order = await service.expire(uow, order_id, now)
        except Exception:
            # This order stays as it was for the next run; the others go on.
            log.exception("order_expiry_failed", order_id=order_id)
            continue
        if order is not None:
            cancelled.append(order_id)
            log.info("order_expired", order_id=order_id, user_id=order.user_id)
    return cancelled
