"""The orders export of what the viewer may read: CSV (one row per order) or JSON Lines (whole orders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Order, User
from storefront.orders import repository
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


def orders_response(database: Database, viewer: User, fmt: ExportFormat) -> StreamingResponse:
    query = repository.readable_by(viewer).order_by(Order.id)
    return export_response(
        database.snapshot_session, query, name="orders", fmt=fmt, schema=OrderRead, header=HEADER, to_row=_csv_row
    )
