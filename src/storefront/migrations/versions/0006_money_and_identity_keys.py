"""money columns hold every total the contract allows; emails stored as identity keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:10:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY_COLUMNS = [
    ("products", "price"),
    ("orders", "subtotal"),
    ("orders", "total"),
    ("order_items", "unit_price"),
    ("order_items", "line_total"),
]


def _identity_key(value: str) -> str:
    # storefront.kit.identity.identity_key as of this revision (migrations never import app code).
    folded = unicodedata.normalize("NFKC", value.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def upgrade() -> None:
    bind = op.get_bind()
    # SQLite keeps a NUMERIC of any size; PostgreSQL enforces the declared precision.
    if bind.dialect.name == "postgresql":
        for table, column in MONEY_COLUMNS:
            op.alter_column(table, column, type_=sa.Numeric(16, 2), existing_type=sa.Numeric(12, 2))

    users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))
    rows = bind.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)).all()
    owners: dict[str, int] = {}
    for user_id, email in rows:
        owners.setdefault(_identity_key(email), user_id)
    clashes = [(user_id, email) for user_id, email in rows if owners[_identity_key(email)] != user_id]
    if clashes:
        listed = ", ".join(f"{user_id} ({email!r})" for user_id, email in clashes)
        raise RuntimeError(
            "These accounts' emails are look-alikes of older accounts' (equal after NFKC and case folding): "
            f"{listed}. Change or merge them, then upgrade again."
        )
    for user_id, email in rows:
        if (key := _identity_key(email)) != email:
            bind.execute(users.update().where(users.c.id == user_id).values(email=key))


def downgrade() -> None:
    # Emails stay in their identity form: it is a valid address, and the old code compared lower-cased.
    if op.get_bind().dialect.name == "postgresql":
        for table, column in MONEY_COLUMNS:
            op.alter_column(table, column, type_=sa.Numeric(12, 2), existing_type=sa.Numeric(16, 2))
