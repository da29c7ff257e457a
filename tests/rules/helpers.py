"""What the rules tests share: who calls, and what the database holds afterwards."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from storefront.database import Database
from storefront.db import Base
from tests.factories import Actor, Factory

M = TypeVar("M", bound=Base)


async def caller(factory: Factory, role: str) -> Actor:
    makers = {"customer": factory.customer, "staff": factory.staff, "admin": factory.admin}
    return await makers[role]()


async def stored(database: Database, model: type[M]) -> list[M]:
    """Every row of `model`, by id."""
    async with database.read_session() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())  # type: ignore[attr-defined]


def columns(row: Base) -> dict[str, Any]:
    """A row's column values: what "unchanged" is compared by."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}
