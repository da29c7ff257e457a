"""the checkout rules: discount codes (and their uses per customer), shipping methods, tax rates

Codes of discounts and shipping methods are unique ignoring case: each table
keeps the code as typed beside its case-folded `code_key`, which carries the
unique constraint.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("max_uses_per_customer", sa.Integer(), nullable=True),
        sa.Column("min_subtotal", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind <> 'percent' OR value <= 100", name=op.f("ck_discounts_percent_at_most_100")),
        sa.CheckConstraint("kind IN ('percent', 'fixed')", name=op.f("ck_discounts_kind_known")),
        sa.CheckConstraint("max_uses IS NULL OR max_uses >= 1", name=op.f("ck_discounts_max_uses_positive")),
        sa.CheckConstraint("max_uses IS NULL OR used <= max_uses", name=op.f("ck_discounts_used_within_max_uses")),
        sa.CheckConstraint(
            "max_uses_per_customer IS NULL OR max_uses_per_customer >= 1",
            name=op.f("ck_discounts_max_uses_per_customer_positive"),
        ),
        sa.CheckConstraint("used >= 0", name=op.f("ck_discounts_used_not_negative")),
        sa.CheckConstraint("value > 0", name=op.f("ck_discounts_value_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
        sa.UniqueConstraint("code_key", name=op.f("uq_discounts_code_key")),
    )
    op.create_table(
        "discount_customer_uses",
        sa.Column("discount_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.CheckConstraint("uses >= 0", name=op.f("ck_discount_customer_uses_uses_not_negative")),
        sa.ForeignKeyConstraint(
            ["discount_id"],
            ["discounts.id"],
            name=op.f("fk_discount_customer_uses_discount_id_discounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_discount_customer_uses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("discount_id", "user_id", name=op.f("pk_discount_customer_uses")),
    )
    with op.batch_alter_table("discount_customer_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_discount_customer_uses_user_id"), ["user_id"], unique=False)

    op.create_table(
        "shipping_methods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("free_over", sa.Numeric(precision=16, scale=2), nullable=True),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "free_over IS NULL OR free_over >= 0", name=op.f("ck_shipping_methods_free_over_not_negative")
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_shipping_methods_price_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipping_methods")),
        sa.UniqueConstraint("code_key", name=op.f("uq_shipping_methods_code_key")),
    )

    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rate >= 0 AND rate <= 100", name=op.f("ck_tax_rates_rate_percentage")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
        sa.UniqueConstraint("country", name=op.f("uq_tax_rates_country")),
    )


def downgrade() -> None:
    op.drop_table("tax_rates")
    op.drop_table("shipping_methods")
    with op.batch_alter_table("discount_customer_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_discount_customer_uses_user_id"))
    op.drop_table("discount_customer_uses")
    op.drop_table("discounts")
