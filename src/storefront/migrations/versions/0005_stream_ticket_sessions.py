"""stream tickets belong to a login session

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On SQLite the table is rebuilt from its reflection; not following its foreign
# keys keeps `users` (and its expression index, which SQLAlchemy cannot
# reflect) out of it.
REFLECT = {"resolve_fks": False}


def upgrade() -> None:
    with op.batch_alter_table("stream_tickets", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_stream_tickets_session_id"), ["session_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_stream_tickets_session_id_auth_sessions"),
            "auth_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("stream_tickets", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_stream_tickets_session_id_auth_sessions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_stream_tickets_session_id"))
        batch_op.drop_column("session_id")
