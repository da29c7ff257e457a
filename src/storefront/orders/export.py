"""The orders export: CSV (one row per order) or JSON Lines (whole orders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Order
from storefront.orders.schemas import OrderRead

HEADER = ("id", "user_id", "status", "lines", "subtotal", "total", "currency", "created_at", "updated_at")


def _csv_row(order: Order) -> Sequence[Any]:
    return (
        order.id,
        order.user_id,
        order.status,
        len(order.items),
        f"{order.subtotal:.2f}",
        f"{order.total:.2f}",
        order.currency,
        order.created_at.isoformat(),
        order.updated_at.isoformat(),
    )


def orders_response(database: Database, fmt: ExportFormat) -> StreamingResponse:
    query = select(Order).options(selectinload(Order.items)).order_by(Order.id)
    return export_response(
        database.read_session, query, name="orders", fmt=fmt, schema=OrderRead, header=HEADER, to_row=_csv_row
    )
