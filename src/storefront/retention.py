"""Every domain's retention rules, gathered: the worker runs them once an hour."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storefront.auth.retention import RULES as AUTH
from storefront.carts.retention import RULES as CARTS
from storefront.db import utcnow
from storefront.events.retention import RULES as EVENTS
from storefront.idempotency import RULES as IDEMPOTENCY
from storefront.kit.retention import Horizon
from storefront.notifications.retention import RULES as NOTIFICATIONS
from storefront.webhooks.retention import RULES as WEBHOOKS

RULES = (*NOTIFICATIONS, *EVENTS, *AUTH, *IDEMPOTENCY, *CARTS, *WEBHOOKS)


async def prune(session: AsyncSession, retention_days: int, *, cart_ttl_days: int = 30) -> dict[str, int]:
    """Apply every rule in `session`; how many rows each removed."""
    now = utcnow()
    horizon = Horizon(now=now, cutoff=now - timedelta(days=retention_days), carts=now - timedelta(days=cart_ttl_days))
    return {rule.name: await rule.apply(session, horizon) for rule in RULES}
