"""product options and variants; order lines name the variant they sold

Every existing product gets one default variant (no options) carrying its
price, stock and SKU; every existing order line points at that variant and
copies its SKU. `products.sku` goes: a product's SKU is its sole variant's.
`products.price` and `products.stock` stay, kept by the app as the lowest
active variant price and the sum of active variant stock.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On SQLite a table is rebuilt from its reflection; not following its foreign
# keys keeps `users` (and its expression index, which SQLAlchemy cannot
# reflect) out of it.
REFLECT = {"resolve_fks": False}
# storefront.models.option_key({}) as of this revision (migrations never import app code).
NO_OPTIONS_KEY = "[]"

products = sa.table(
    "products",
    sa.column("id", sa.Integer),
    sa.column("sku", sa.String),
    sa.column("price", sa.Numeric(16, 2)),
    sa.column("stock", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
variants = sa.table(
    "product_variants",
    sa.column("id", sa.Integer),
    sa.column("product_id", sa.Integer),
    sa.column("sku", sa.String),
    sa.column("options", sa.JSON),
    sa.column("option_key", sa.Text),
    sa.column("price", sa.Numeric(16, 2)),
    sa.column("stock", sa.Integer),
    sa.column("archived", sa.Boolean),
    sa.column("position", sa.Integer),
    sa.column("version", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
order_items = sa.table(
    "order_items",
    sa.column("product_id", sa.Integer),
    sa.column("variant_id", sa.Integer),
    sa.column("sku", sa.String),
    sa.column("options", sa.JSON),
)


def upgrade() -> None:
    op.create_table(
        "product_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_options_product_id_products"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_options")),
        sa.UniqueConstraint("product_id", "name", name=op.f("uq_product_options_product_id")),
    )
    with op.batch_alter_table("product_options", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_options_product_id"), ["product_id"], unique=False)

    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("option_key", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("image_key", sa.String(length=255), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_product_variants_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_product_variants_stock_not_negative")),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_product_variants_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
        sa.UniqueConstraint("product_id", "option_key", name=op.f("uq_product_variants_product_id")),
        sa.UniqueConstraint("sku", name=op.f("uq_product_variants_sku")),
    )

    # One default variant per product, in product order.
    columns = ["product_id", "sku", "options", "option_key", "price", "stock", "archived", "position", "version",
               "created_at", "updated_at"]  # fmt: skip
    defaults = sa.select(
        products.c.id,
        products.c.sku,
        sa.literal({}, sa.JSON),
        sa.literal(NO_OPTIONS_KEY, sa.Text),
        products.c.price,
        products.c.stock,
        sa.false(),
        sa.literal(0, sa.Integer),
        sa.literal(1, sa.Integer),
        products.c.created_at,
        products.c.updated_at,
    ).order_by(products.c.id)
    op.execute(variants.insert().from_select(columns, defaults))

    # Order lines: the variant, its SKU and (no) option values, as they were sold.
    with op.batch_alter_table("order_items", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("variant_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sku", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=True))

    def of_the_line_product(column: sa.ColumnClause[object]) -> sa.ScalarSelect[object]:
        return sa.select(column).where(variants.c.product_id == order_items.c.product_id).scalar_subquery()

    op.execute(
        order_items.update().values(
            variant_id=of_the_line_product(variants.c.id),
            sku=of_the_line_product(variants.c.sku),
            options=sa.literal({}, sa.JSON),
        )
    )
    with op.batch_alter_table("order_items", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.alter_column("variant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("options", existing_type=sa.JSON(), nullable=False)
        batch_op.create_index(batch_op.f("ix_order_items_variant_id"), ["variant_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_order_items_variant_id_product_variants"), "product_variants", ["variant_id"], ["id"]
        )

    with op.batch_alter_table("products", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_products_sku"), type_="unique")
        batch_op.drop_column("sku")


def downgrade() -> None:
    # A product gets back the SKU of its first variant; other variants, and
    # which variant an order line sold, are lost.
    with op.batch_alter_table("products", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("sku", sa.String(length=64), nullable=True))
    first = (
        sa.select(variants.c.sku)
        .where(variants.c.product_id == products.c.id)
        .order_by(variants.c.id)
        .limit(1)
        .scalar_subquery()
    )
    op.execute(products.update().values(sku=first))
    with op.batch_alter_table("products", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_products_sku"), ["sku"])

    with op.batch_alter_table("order_items", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_order_items_variant_id_product_variants"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_order_items_variant_id"))
        batch_op.drop_column("options")
        batch_op.drop_column("sku")
        batch_op.drop_column("variant_id")

    op.drop_table("product_variants")
    with op.batch_alter_table("product_options", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_options_product_id"))
    op.drop_table("product_options")
