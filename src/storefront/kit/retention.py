"""What every retention rule is given, and what it is: one named delete.

Each domain declares its rules beside its tables (`<domain>/retention.py`,
a `RULES` tuple; `storefront.idempotency` keeps its own); `storefront.retention`
gathers them and the worker runs them all in one transaction, once an hour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Delete
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Horizon:
    """`now`; `cutoff`, now less `RETENTION_DAYS`, before which history may go;
    `carts`, now less `CART_TTL_DAYS`, before which an unchanged cart goes."""

    now: datetime
    cutoff: datetime
    carts: datetime


@dataclass(frozen=True, slots=True)
class Rule:
    """Rows named `name` that `statement(horizon)` deletes."""

    name: str
    statement: Callable[[Horizon], Delete]

    async def apply(self, session: AsyncSession, horizon: Horizon) -> int:
        result = await session.execute(self.statement(horizon))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
