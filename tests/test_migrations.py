"""Migrations keep existing data: each test migrates a database of its own,
filled at an older revision, and reads what the upgrade left."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
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
        async with engine.begin() as connection:
            result = await connection.execute(text(statement), params)
            rows = list(result.all()) if result.returns_rows else []
        await engine.dispose()
        return rows

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
