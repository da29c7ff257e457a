"""refunds, applied provider events, a payment's failure reason, an order's returned stock

Refunds of a payment (asked by staff or found at the provider); the provider's
webhook events already applied (one row per event id, so a redelivery changes
nothing); why a payment failed or was not taken; and whether an order's stock
went back, so that cancelling and restocking refunds never return it twice.
Orders cancelled before this revision had their stock returned.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=16, scale=2)
# As in 0007: a rebuilt SQLite table is made from its reflection, not following its foreign keys.
REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("restocked", sa.Boolean(), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_refunds_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_refunds_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    op.create_index(op.f("ix_refunds_payment_id"), "refunds", ["payment_id"])
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"])
    op.create_index(op.f("ix_refunds_provider_reference"), "refunds", ["provider_reference"])
    op.create_table(
        "provider_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
        sa.UniqueConstraint("provider", "event_id", name=op.f("uq_provider_events_provider")),
    )
    op.create_index(op.f("ix_provider_events_received_at"), "provider_events", ["received_at"])
    with op.batch_alter_table("payments", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("failure_reason", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_payments_provider_reference"), ["provider_reference"])
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("stock_returned", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE orders SET stock_returned = true WHERE status = 'cancelled'")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_column("stock_returned")
    with op.batch_alter_table("payments", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_provider_reference"))
        batch_op.drop_column("failure_reason")
    op.drop_index(op.f("ix_provider_events_received_at"), table_name="provider_events")
    op.drop_table("provider_events")
    op.drop_index(op.f("ix_refunds_provider_reference"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_order_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_payment_id"), table_name="refunds")
    op.drop_table("refunds")
