"""orders carry their price breakdown, a structured shipping address and a payment

Orders gain `discount_code`, `discount_total`, `shipping_method`,
`shipping_total`, `tax_total`, `refunded_total` (existing orders: none, 0) and
`payment_due_at` (existing orders: null, so the payment deadline never cancels
them); order lines their share of the discount and tax (0). The amounts default
to 0 in the database too, so a row written without them (an import, a seed)
reads as "none". A `payments` table
holds one row per order from now on (existing orders have none).

`orders.shipping_address` becomes JSON, an Address. An existing address is
free text that cannot be split reliably into street, city and country, so it
is kept whole, as typed, in `line1`, with `name`, `city`, `postal_code` and
`country` empty strings: every read still shows it, and nobody mistakes a
guessed field for a checked one. The downgrade gives such an address back as
it was, and joins a structured one into one line.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As in 0007: a rebuilt SQLite table is made from its reflection, not following its foreign keys.
REFLECT = {"resolve_fks": False}
MONEY = sa.Numeric(precision=16, scale=2)
ORDER_MONEY = ("discount_total", "shipping_total", "tax_total", "refunded_total")
LINE_MONEY = ("discount", "tax")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "region", "country", "phone")

orders = sa.table(
    "orders",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("shipping_address", sa.Text),
    sa.column("address", sa.JSON),
    sa.column("shipping_address_text", sa.Text),
)


def _legacy_address(text: sa.ColumnElement[str]) -> sa.ColumnElement[object]:
    """The JSON object of an address known only as one line of text."""
    fields: dict[str, sa.ColumnElement[object]] = {name: sa.literal("", sa.Text) for name in ADDRESS_FIELDS}
    fields |= {"line1": text, "line2": sa.null(), "region": sa.null(), "phone": sa.null()}
    pairs = [part for name, value in fields.items() for part in (sa.literal(name, sa.Text), value)]
    build = sa.func.json_build_object if op.get_bind().dialect.name == "postgresql" else sa.func.json_object
    return build(*pairs)


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("discount_code", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("shipping_method", sa.Text(), nullable=True))
        for column in ORDER_MONEY:
            batch_op.add_column(sa.Column(column, MONEY, nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("payment_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("address", sa.JSON(), nullable=True))

    op.execute(
        orders.update()
        .where(orders.c.shipping_address.is_not(None))
        .values(address=_legacy_address(orders.c.shipping_address))
    )

    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_column("shipping_address")
        batch_op.alter_column("address", new_column_name="shipping_address", existing_type=sa.JSON())
        batch_op.create_index(batch_op.f("ix_orders_payment_due_at"), ["payment_due_at"], unique=False)

    with op.batch_alter_table("order_items", schema=None, reflect_kwargs=REFLECT) as batch_op:
        for column in LINE_MONEY:
            batch_op.add_column(sa.Column(column, MONEY, nullable=False, server_default="0"))

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider_reference", sa.String(length=255), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("client_secret", sa.String(length=255), nullable=True),
        sa.Column("refunded_total", MONEY, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payments_order_id")),
    )


def _one_line(address: object) -> str | None:
    """An address as the text column held it: a legacy one as it was, a structured one joined."""
    if not isinstance(address, dict):
        return None
    if not address.get("country"):
        return str(address.get("line1") or "") or None
    city = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    parts = [address.get("name"), address.get("line1"), address.get("line2"), city, address.get("region"),
             address.get("country"), address.get("phone")]  # fmt: skip
    return ", ".join(str(part) for part in parts if part)[:500]


def downgrade() -> None:
    op.drop_table("payments")

    with op.batch_alter_table("order_items", schema=None, reflect_kwargs=REFLECT) as batch_op:
        for column in reversed(LINE_MONEY):
            batch_op.drop_column(column)

    bind = op.get_bind()
    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.add_column(sa.Column("shipping_address_text", sa.Text(), nullable=True))
    rows = bind.execute(
        sa.select(orders.c.id, sa.type_coerce(orders.c.shipping_address, sa.JSON)).where(
            orders.c.shipping_address.is_not(None)
        )
    ).all()
    for order_id, address in rows:
        bind.execute(orders.update().where(orders.c.id == order_id).values(shipping_address_text=_one_line(address)))
    # The older code knows no `refunded` status: a fully refunded order is, to it, a cancelled one.
    op.execute(orders.update().where(orders.c.status == "refunded").values(status="cancelled"))

    with op.batch_alter_table("orders", schema=None, reflect_kwargs=REFLECT) as batch_op:
        batch_op.drop_index(batch_op.f("ix_orders_payment_due_at"))
        batch_op.drop_column("shipping_address")
        batch_op.alter_column("shipping_address_text", new_column_name="shipping_address", existing_type=sa.Text())
        batch_op.drop_column("payment_due_at")
        for column in reversed(ORDER_MONEY):
            batch_op.drop_column(column)
        batch_op.drop_column("shipping_method")
        batch_op.drop_column("discount_code")
