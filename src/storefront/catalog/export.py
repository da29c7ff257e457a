"""The products export: CSV or JSON Lines of every product the viewer may read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from storefront.catalog import repository
from storefront.catalog.schemas import ProductRead
from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Product, User

HEADER = ("id", "sku", "name", "description", "price", "category", "stock", "archived", "created_at", "updated_at")


def _csv_row(product: Product) -> Sequence[Any]:
    return (
        product.id,
        product.sku or "",
        product.name,
        product.description or "",
        f"{product.price:.2f}",
        product.category or "",
        product.stock,
        str(product.archived).lower(),
        product.created_at.isoformat(),
        product.updated_at.isoformat(),
    )


def products_response(database: Database, viewer: User, fmt: ExportFormat) -> StreamingResponse:
    query = repository.readable_by(viewer).order_by(Product.id)
    return export_response(
        database.snapshot_session, query, name="products", fmt=fmt, schema=ProductRead, header=HEADER, to_row=_csv_row
    )
