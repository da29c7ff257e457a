"""The products export of every product the viewer may read: CSV with one row per
variant (archived ones too), or JSON Lines with one whole product per line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager

from storefront.catalog import repository
from storefront.catalog.schemas import ProductExport
from storefront.database import Database
from storefront.kit.export import ExportFormat, export_response
from storefront.models import Product, ProductVariant, User

# The product's columns first, as before variants: for a product of one variant
# its row is what it was. `sku`, `price` and `stock` are the variant's.
HEADER = (
    "id", "sku", "name", "description", "price", "category", "stock", "archived", "created_at", "updated_at",
    "variant_id", "options", "variant_archived",
)  # fmt: skip


def _csv_row(variant: ProductVariant) -> Sequence[Any]:
    product = variant.product
    return (
        product.id,
        variant.sku or "",
        product.name,
        product.description or "",
        f"{variant.price:.2f}",
        product.category or "",
        variant.stock,
        str(product.archived).lower(),
        product.created_at.isoformat(),
        product.updated_at.isoformat(),
        variant.id,
        options_text(variant.options),
        str(variant.archived).lower(),
    )


def options_text(options: dict[str, str]) -> str:
    """`Size=M; Colour=Blue` (empty for a variant without options)."""
    return "; ".join(f"{name}={value}" for name, value in options.items())


def _variant_rows(viewer: User) -> Select[Any]:
    """Every variant of the products `viewer` may read (as `repository.readable_by`), with its product."""
    query = (
        select(ProductVariant)
        .join(ProductVariant.product)
        .options(contains_eager(ProductVariant.product))
        .order_by(Product.id, ProductVariant.position, ProductVariant.id)
    )
    return query if repository.sees_archived(viewer) else query.where(Product.archived.is_(False))


def products_response(database: Database, viewer: User, fmt: ExportFormat) -> StreamingResponse:
    query = _variant_rows(viewer) if fmt == "csv" else repository.readable_by(viewer).order_by(Product.id)
    return export_response(
        database.snapshot_session, query, name="products", fmt=fmt, schema=ProductExport, header=HEADER, to_row=_csv_row
    )
