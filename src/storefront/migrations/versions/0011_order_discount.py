"""orders name the discount whose use they counted

So that cancelling an order (by its owner, staff or the payment deadline)
gives that use back, even after the code is renamed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("discount_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_discount_id_discounts"), "discounts", ["discount_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_discount_id_discounts"), type_="foreignkey")
        batch_op.drop_column("discount_id")
