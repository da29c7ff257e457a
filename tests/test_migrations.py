"""Migrations keep existing data: each test migrates a database of its own,
filled at an older revision, and reads what the upgrade left."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from storefront import migrations
from storefront.config import Settings
from tests.conftest import BACKEND, POSTGRES_SERVER, _postgres_admin

FULLWIDTH_ADA = "\uff41\uff44\uff41"  # "ada" in fullwidth letters


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    if BACKEND == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/migrate.db"
        return
    name = f"storefront_migrate_{uuid.uuid4().hex[:12]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql(url: str, statement: str, **params: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()  # also when the statement fails: no connection left behind

    return asyncio.run(run())


def _add_user(url: str, user_id: int, email: str, username: str) -> None:
    _sql(
        url,
        "INSERT INTO users (id, email, username, password_hash, role, is_active, token_version, version,"
        " created_at, updated_at) VALUES (:id, :email, :username, 'x', 'customer', true, 0, 1,"
        " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        id=user_id,
        email=email,
        username=username,
    )


def test_upgrade_stores_emails_as_identity_keys_and_widens_money(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0004")
    _add_user(fresh_url, 1, f"{FULLWIDTH_ADA}@example.com", "ada")
    _add_user(fresh_url, 2, "grace@example.com", "grace")

    migrations.upgrade(settings)

    rows = _sql(fresh_url, "SELECT id, email FROM users ORDER BY id")
    assert [tuple(row) for row in rows] == [(1, "ada@example.com"), (2, "grace@example.com")]
    _sql(
        fresh_url,
        "INSERT INTO products (id, name, price, stock, archived, version, created_at, updated_at)"
        " VALUES (1, 'Big', 1000000.00, 1, false, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    _sql(
        fresh_url,
        "INSERT INTO orders (id, user_id, status, subtotal, total, currency, version, created_at, updated_at)"
        " VALUES (1, 1, 'pending', 50000000000.00, 50000000000.00, 'EUR', 1,"
        " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    assert str(_sql(fresh_url, "SELECT total FROM orders")[0][0]) in {"50000000000.00", "50000000000"}


def test_upgrade_refuses_look_alike_emails_and_changes_nothing(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0004")
    _add_user(fresh_url, 1, "ada@example.com", "ada")
    _add_user(fresh_url, 2, f"{FULLWIDTH_ADA}@example.com", "ada2")

    with pytest.raises(RuntimeError, match=r"look-alikes.*2 \("):
        migrations.upgrade(settings)

    rows = _sql(fresh_url, "SELECT email FROM users ORDER BY id")
    assert [row[0] for row in rows] == ["ada@example.com", f"{FULLWIDTH_ADA}@example.com"]


def test_upgrade_gives_every_product_a_default_variant_and_order_lines_their_variant(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0006")
    _add_user(fresh_url, 1, "ada@example.com", "ada")
    _sql(
        fresh_url,
        "INSERT INTO products (id, sku, name, price, stock, archived, version, created_at, updated_at) VALUES"
        " (3, 'CUP-1', 'Cup', 12.50, 4, false, 2, '2026-11-01 00:00:00', '2026-11-02 00:00:00'),"
        " (5, NULL, 'Old', 3.00, 0, true, 2, '2026-11-01 00:00:00', '2026-11-02 00:00:00'),"
        " (9, 'POT-9', 'Pot', 45.00, 17, false, 2, '2026-11-01 00:00:00', '2026-11-02 00:00:00')",
    )
    _sql(
        fresh_url,
        "INSERT INTO orders (id, user_id, status, subtotal, total, currency, version, created_at, updated_at)"
        " VALUES (1, 1, 'paid', 70.00, 70.00, 'EUR', 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    _sql(
        fresh_url,
        "INSERT INTO order_items (id, order_id, product_id, name, unit_price, quantity, line_total) VALUES"
        " (1, 1, 3, 'Cup', 12.50, 2, 25.00), (2, 1, 9, 'Pot', 45.00, 1, 45.00)",
    )

    migrations.upgrade(settings)

    products = _sql(fresh_url, "SELECT id, price, stock, archived FROM products ORDER BY id")
    assert [(row[0], Decimal(row[1]), row[2], bool(row[3])) for row in products] == [
        (3, Decimal("12.50"), 4, False),
        (5, Decimal("3.00"), 0, True),
        (9, Decimal("45.00"), 17, False),
    ]
    variants = _sql(
        fresh_url,
        "SELECT id, product_id, sku, options, option_key, price, stock, archived, position, version"
        " FROM product_variants ORDER BY product_id",
    )
    assert [
        (row[1], row[2], _json(row[3]), row[4], Decimal(row[5]), row[6], bool(row[7]), row[8], row[9])
        for row in variants
    ] == [
        (3, "CUP-1", {}, "[]", Decimal("12.50"), 4, False, 0, 1),
        (5, None, {}, "[]", Decimal("3.00"), 0, False, 0, 1),
        (9, "POT-9", {}, "[]", Decimal("45.00"), 17, False, 0, 1),
    ]
    variant_of = {row[1]: row[0] for row in variants}
    lines = _sql(
        fresh_url, "SELECT id, product_id, variant_id, sku, options, quantity, line_total FROM order_items ORDER BY id"
    )
    assert [(row[0], row[1], row[2], row[3], _json(row[4]), row[5], Decimal(row[6])) for row in lines] == [
        (1, 3, variant_of[3], "CUP-1", {}, 2, Decimal("25.00")),
        (2, 9, variant_of[9], "POT-9", {}, 1, Decimal("45.00")),
    ]
    assert _sql(fresh_url, "SELECT count(*) FROM orders")[0][0] == 1
    assert _sql(fresh_url, "SELECT count(*) FROM product_options")[0][0] == 0
    # The schema is the models': SKUs are unique across variants, combinations per product.
    with pytest.raises(IntegrityError):
        _sql(
            fresh_url,
            "INSERT INTO product_variants (product_id, sku, options, option_key, price, stock, archived, position,"
            " version, created_at, updated_at) VALUES (9, 'CUP-1', '{}', 'x', 1, 0, false, 1, 1,"
            " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        )
    with pytest.raises(IntegrityError):
        _sql(
            fresh_url,
            "INSERT INTO product_variants (product_id, sku, options, option_key, price, stock, archived, position,"
            " version, created_at, updated_at) VALUES (9, NULL, '{}', '[]', 1, 0, false, 1, 1,"
            " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        )
    # The users table (and its case-blind username index) came through untouched.
    with pytest.raises(IntegrityError):
        _add_user(fresh_url, 2, "other@example.com", "ADA")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_downgrade_gives_products_back_their_sku(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0006")
    _sql(
        fresh_url,
        "INSERT INTO products (id, sku, name, price, stock, archived, version, created_at, updated_at)"
        " VALUES (3, 'CUP-1', 'Cup', 12.50, 4, false, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    migrations.upgrade(settings)

    migrations.downgrade(settings, "0006")

    assert [tuple(row) for row in _sql(fresh_url, "SELECT id, sku, stock FROM products")] == [(3, "CUP-1", 4)]


def _add_discount(url: str, code: str, *, used: int = 0, max_uses: int | None = None) -> None:
    _sql(
        url,
        "INSERT INTO discounts (code, code_key, kind, value, max_uses, active, used, version, created_at, updated_at)"
        " VALUES (:code, :key, 'percent', 10, :max_uses, true, :used, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        code=code,
        key=code.lower(),
        used=used,
        max_uses=max_uses,
    )


def test_the_checkout_rules_arrive_with_their_constraints_and_leave_on_downgrade(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0007")
    _add_user(fresh_url, 1, "ada@example.com", "ada")

    migrations.upgrade(settings)

    _add_discount(fresh_url, "Welcome10", used=2, max_uses=2)
    _sql(fresh_url, "INSERT INTO discount_customer_uses (discount_id, user_id, uses) VALUES (1, 1, 2)")
    with pytest.raises(IntegrityError):
        _add_discount(fresh_url, "WELCOME10")  # the same code in other letters
    with pytest.raises(IntegrityError):
        _sql(fresh_url, "UPDATE discounts SET used = 3")  # beyond max_uses
    with pytest.raises(IntegrityError):
        _sql(fresh_url, "UPDATE discount_customer_uses SET uses = -1")
    _sql(
        fresh_url,
        "INSERT INTO tax_rates (country, rate, version, created_at, updated_at)"
        " VALUES ('FI', 25.5, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    with pytest.raises(IntegrityError):
        _sql(
            fresh_url,
            "INSERT INTO tax_rates (country, rate, version, created_at, updated_at)"
            " VALUES ('FI', 24, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        )
    assert Decimal(str(_sql(fresh_url, "SELECT rate FROM tax_rates")[0][0])) == Decimal("25.5")

    migrations.downgrade(settings, "0007")

    for table in ("discounts", "discount_customer_uses", "shipping_methods", "tax_rates"):
        with pytest.raises(DBAPIError):
            _sql(fresh_url, f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
    assert _sql(fresh_url, "SELECT count(*) FROM users")[0][0] == 1


def test_upgrade_keeps_an_old_address_whole_and_gives_orders_empty_breakdowns(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0007")
    _add_user(fresh_url, 1, "ada@example.com", "ada")
    _sql(
        fresh_url,
        "INSERT INTO products (id, name, price, stock, archived, version, created_at, updated_at)"
        " VALUES (3, 'Cup', 12.50, 4, false, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    _sql(
        fresh_url,
        "INSERT INTO product_variants (id, product_id, options, option_key, price, stock, archived, position, version,"
        " created_at, updated_at) VALUES (7, 3, '{}', '[]', 12.50, 4, false, 0, 1,"
        " '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    _sql(
        fresh_url,
        "INSERT INTO orders (id, user_id, status, subtotal, total, currency, shipping_address, version, created_at,"
        " updated_at) VALUES (1, 1, 'pending', 25.00, 25.00, 'EUR', :address, 1, '2026-11-01 00:00:00',"
        " '2026-11-01 00:00:00'), (2, 1, 'paid', 25.00, 25.00, 'EUR', NULL, 1, '2026-11-01 00:00:00',"
        " '2026-11-01 00:00:00')",
        address='1 Main Street, "Rue" 2, 1000 Brussels',
    )
    _sql(
        fresh_url,
        "INSERT INTO order_items (id, order_id, product_id, variant_id, options, name, unit_price, quantity,"
        " line_total) VALUES (1, 1, 3, 7, '{}', 'Cup', 12.50, 2, 25.00)",
    )

    migrations.upgrade(settings)

    rows = _sql(
        fresh_url,
        "SELECT id, shipping_address, discount_code, discount_total, shipping_method, shipping_total, tax_total,"
        " refunded_total, payment_due_at FROM orders ORDER BY id",
    )
    legacy = {"name": "", "line1": '1 Main Street, "Rue" 2, 1000 Brussels', "line2": None, "city": "",
              "postal_code": "", "region": None, "country": "", "phone": None}  # fmt: skip
    assert [(row[0], _json(row[1]), row[2], *map(Decimal, row[3:4]), row[4], *map(Decimal, row[5:8]), row[8])
            for row in rows] == [
        (1, legacy, None, Decimal(0), None, Decimal(0), Decimal(0), Decimal(0), None),
        (2, None, None, Decimal(0), None, Decimal(0), Decimal(0), Decimal(0), None),
    ]  # fmt: skip
    lines = _sql(fresh_url, "SELECT discount, tax FROM order_items")
    assert [(Decimal(row[0]), Decimal(row[1])) for row in lines] == [(Decimal(0), Decimal(0))]
    assert _sql(fresh_url, "SELECT count(*) FROM payments")[0][0] == 0
    # What the app reads of it.
    from storefront.kit.address import AddressRead

    assert AddressRead.model_validate(legacy).model_dump() == legacy
    # One payment per order.
    _sql(
        fresh_url,
        "INSERT INTO payments (order_id, provider, status, amount, currency, refunded_total, created_at, updated_at)"
        " VALUES (1, 'manual', 'requires_action', 25.00, 'EUR', 0, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
    )
    with pytest.raises(IntegrityError):
        _sql(
            fresh_url,
            "INSERT INTO payments (order_id, provider, status, amount, currency, refunded_total, created_at,"
            " updated_at) VALUES (1, 'manual', 'succeeded', 25.00, 'EUR', 0, '2026-11-01 00:00:00',"
            " '2026-11-01 00:00:00')",
        )


def test_downgrade_gives_addresses_back_as_one_line(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrations.upgrade(settings, "0007")
    _add_user(fresh_url, 1, "ada@example.com", "ada")
    _sql(
        fresh_url,
        "INSERT INTO orders (id, user_id, status, subtotal, total, currency, shipping_address, version, created_at,"
        " updated_at) VALUES (1, 1, 'pending', 5, 5, 'EUR', 'Old Street 1, Ghent', 1, '2026-11-01 00:00:00',"
        " '2026-11-01 00:00:00')",
    )
    migrations.upgrade(settings)
    structured = {"name": "Ada Lovelace", "line1": "1 Main Street", "line2": None, "city": "Berlin",
                  "postal_code": "10115", "region": None, "country": "DE", "phone": "+49 30 1234567"}  # fmt: skip
    _sql(
        fresh_url,
        "INSERT INTO orders (id, user_id, status, subtotal, discount_total, shipping_total, tax_total, total,"
        " refunded_total, currency, shipping_address, version, created_at, updated_at) VALUES (2, 1, 'refunded', 5,"
        " 0, 0, 0, 5, 5, 'EUR', :address, 1, '2026-11-01 00:00:00', '2026-11-01 00:00:00')",
        address=json.dumps(structured),
    )

    migrations.downgrade(settings, "0007")

    rows = _sql(fresh_url, "SELECT id, status, shipping_address FROM orders ORDER BY id")
    assert [tuple(row) for row in rows] == [
        (1, "pending", "Old Street 1, Ghent"),
        (2, "cancelled", "Ada Lovelace, 1 Main Street, 10115 Berlin, DE, +49 30 1234567"),
    ]
