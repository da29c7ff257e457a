"""The orders export of what the viewer may read: CSV (one row per order, its totals, payment
and shipping address in columns, its lines with their variants in `items`) or JSON Lines (whole orders)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import StreamingResponse

from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Order, OrderItem, User
from storefront.orders import repository
from storefront.orders.schemas import OrderRead

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country", "phone")
HEADER = (
    "id", "user_id", "status", "lines",
    "subtotal", "discount_code", "discount_total", "shipping_method", "shipping_total", "tax_total", "total",
    "refunded_total", "currency",
    "payment_provider", "payment_status", "payment_due_at",
    *(f"shipping_{name}" for name in ADDRESS_FIELDS),
    "note", "created_at", "updated_at", "items",
)  # fmt: skip


def _csv_row(order: Order) -> Sequence[Any]:
    address = order.shipping_address or {}
    payment = order.payment
    return (
        order.id,
        order.user_id,
        order.status,
        len(order.items),
        _money(order.subtotal),
        order.discount_code,
        _money(order.discount_total),
        order.shipping_method,
        _money(order.shipping_total),
        _money(order.tax_total),
        _money(order.total),
        _money(order.refunded_total),
        order.currency,
        payment.provider if payment is not None else None,
        payment.status if payment is not None else None,
        order.payment_due_at.isoformat() if order.payment_due_at is not None else None,
        *(address.get(name) for name in ADDRESS_FIELDS),
        order.note,
        order.created_at.isoformat(),
        order.updated_at.isoformat(),
        "; ".join(map(_line_text, order.items)),
    )


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


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
