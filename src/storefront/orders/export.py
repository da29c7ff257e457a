"""The orders export of what the viewer may read: CSV (one row per order, its lines with
their variants in `items`) or JSON Lines (whole orders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Order, OrderItem, User
from storefront.orders import repository
from storefront.orders.schemas import OrderRead

HEADER = ("id", "user_id", "status", "lines", "subtotal", "total", "currency", "created_at", "updated_at", "items")


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
        "; ".join(map(_line_text, order.items)),
    )


def _line_text(item: OrderItem) -> str:
    """`2 x Tee (Size: M) [TEE-M] #17`: the variant (its id after `#`) as it was sold."""
    options = ", ".join(f"{name}: {value}" for name, value in item.options.items())
    return (
        f"{item.quantity} x {item.name}"
        + (f" ({options})" if options else "")
        + (f" [{item.sku}]" if item.sku else "")
        + f" #{item.variant_id}"
    )


def orders_response(database: Database, viewer: User, fmt: ExportFormat) -> StreamingResponse:
    query = repository.readable_by(viewer).order_by(Order.id)
    return export_response(
        database.snapshot_session, query, name="orders", fmt=fmt, schema=OrderRead, header=HEADER, to_row=_csv_row
    )
