"""The `storefront` command line on a temporary SQLite database."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner, Result

from storefront.cli import app as cli
from storefront.config import Settings, get_settings
from storefront.main import create_app

ADMIN_PASSWORD = "a-long-and-unusual-admin-passphrase"


@pytest.fixture
def db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli" / "storefront.db"
    monkeypatch.chdir(tmp_path)  # no `.env` from the checkout
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-that-is-long-enough")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


def run_process(*args: str) -> str:
    """The installed command in its own process (Alembic writes to the process's real stdout)."""
    storefront = Path(sys.executable).with_name("storefront")
    completed = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(storefront), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


def scalar(path: Path, sql: str) -> object:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchone()[0]


def test_db_upgrade_current_downgrade(db_file: Path) -> None:
    run("db", "upgrade")
    assert {"users", "products", "alembic_version"} <= tables(db_file)
    head = scalar(db_file, "SELECT version_num FROM alembic_version")
    assert isinstance(head, str)

    current = run_process("db", "current")
    assert head in current
    assert "(head)" in current

    run("db", "downgrade", "base")
    assert "users" not in tables(db_file)
    assert "products" not in tables(db_file)
    assert scalar(db_file, "SELECT count(*) FROM alembic_version") == 0

    run("db", "upgrade")
    assert {"users", "products"} <= tables(db_file)
    run("db", "upgrade")  # again: nothing to do, no error


async def test_create_admin_then_log_in(db_file: Path) -> None:
    # The commands run their own event loop: off this test's loop, in a thread.
    await asyncio.to_thread(run, "db", "upgrade")
    result = await asyncio.to_thread(
        run, "create-admin", "--email", "Root@Example.com", "--username", "root", "--password", ADMIN_PASSWORD
    )
    assert "Created admin root" in result.output
    assert scalar(db_file, "SELECT role FROM users WHERE username = 'root'") == "admin"
    stored_hash = scalar(db_file, "SELECT password_hash FROM users WHERE username = 'root'")
    assert isinstance(stored_hash, str)
    assert ADMIN_PASSWORD not in stored_hash

    settings = get_settings().model_copy(update={"worker_embedded": False, "rate_limits_enabled": False})
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            login = await client.post("/api/v1/auth/login", json={"username": "root", "password": ADMIN_PASSWORD})
            assert login.status_code == 200, login.text
            token = login.json()["access_token"]
            me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            assert me.json()["role"] == "admin"
            assert me.json()["email"] == "root@example.com"
            users = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
            assert users.status_code == 200


def test_create_admin_twice_is_a_clean_error(db_file: Path) -> None:
    run("db", "upgrade")
    run("create-admin", "--email", "root@example.com", "--username", "root", "--password", ADMIN_PASSWORD)
    again = CliRunner().invoke(
        cli, ["create-admin", "--email", "root@example.com", "--username", "root2", "--password", ADMIN_PASSWORD]
    )
    assert again.exit_code == 1
    assert "Could not create the admin" in again.stderr
    assert "Traceback" not in again.output
    assert scalar(db_file, "SELECT count(*) FROM users") == 1


def test_create_admin_refuses_weak_password(db_file: Path) -> None:
    run("db", "upgrade")
    result = CliRunner().invoke(
        cli, ["create-admin", "--email", "root@example.com", "--username", "root", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "password" in result.stderr.lower()
    assert scalar(db_file, "SELECT count(*) FROM users") == 0


def test_seed_products(db_file: Path) -> None:
    run("db", "upgrade")
    result = run("seed", "--products", "7")
    assert "Seeded 7 products" in result.output
    assert scalar(db_file, "SELECT count(*) FROM products") == 7
    assert scalar(db_file, "SELECT count(*) FROM products WHERE price <= 0 OR name = ''") == 0
    run("seed", "--products", "3")
    assert scalar(db_file, "SELECT count(*) FROM products") == 10


def test_seed_makes_shirts_of_sizes_and_colours_and_products_of_one_variant(db_file: Path) -> None:
    run("db", "upgrade")
    run("seed", "--products", "40", "--users", "2", "--orders", "20")

    per_product = "SELECT count(*) FROM (SELECT count(*) AS n FROM product_variants GROUP BY product_id) WHERE n = "
    assert scalar(db_file, per_product + "12") == 10  # the last quarter: 4 sizes x 3 colours
    assert scalar(db_file, per_product + "1") == 30
    assert scalar(db_file, "SELECT max(product_id) FROM product_variants WHERE options = '{}'") == 30  # shirts last
    assert scalar(db_file, "SELECT count(DISTINCT product_id) FROM product_options") == 10
    # A product's stock and price are its variants'.
    assert (
        scalar(
            db_file,
            "SELECT count(*) FROM products p WHERE stock != (SELECT sum(stock) FROM product_variants v"
            " WHERE v.product_id = p.id)"
            " OR price != (SELECT min(price) FROM product_variants v WHERE v.product_id = p.id)",
        )
        == 0
    )
    assert (
        scalar(
            db_file,
            "SELECT count(*) FROM order_items i JOIN product_variants v ON v.id = i.variant_id"
            " WHERE v.product_id != i.product_id",
        )
        == 0
    )
    assert scalar(db_file, "SELECT count(*) FROM orders") == 20


def test_seed_adds_the_sample_checkout_rules_once(db_file: Path) -> None:
    run("db", "upgrade")

    first = run("seed", "--products", "1")

    assert "2 shipping methods, 28 tax rates and 3 discount codes added" in first.output
    rows = "SELECT code, price, free_over FROM shipping_methods ORDER BY code"
    with sqlite3.connect(db_file) as connection:
        methods = connection.execute(rows).fetchall()
        [countries] = connection.execute("SELECT countries FROM shipping_methods WHERE code = 'standard'").fetchone()
    standard = json.loads(countries)
    assert [(code, str(price), free_over and str(free_over)) for code, price, free_over in methods] == [
        ("express", "14.9", None),
        ("standard", "4.9", "50"),
    ]
    assert {"DE", "FR", "GB", "US"} <= set(standard)
    assert scalar(db_file, "SELECT rate FROM tax_rates WHERE country = 'DE'") == 19
    assert scalar(db_file, "SELECT count(*) FROM tax_rates WHERE country = 'US'") == 0
    assert scalar(db_file, "SELECT kind || ' ' || value FROM discounts WHERE code_key = 'welcome10'") == "percent 10"
    assert scalar(db_file, "SELECT min_subtotal FROM discounts WHERE code = 'FIVEOFF'") == 25
    assert scalar(db_file, "SELECT count(*) FROM discounts WHERE ends_at < '2026-01-01'") == 1  # an expired one

    # Run again, after staff changed a rule: nothing is added twice, nothing is overwritten.
    with sqlite3.connect(db_file) as connection:
        connection.execute("UPDATE tax_rates SET rate = 7 WHERE country = 'DE'")
    again = run("seed", "--products", "1")

    assert "0 shipping methods, 0 tax rates and 0 discount codes added" in again.output
    assert scalar(db_file, "SELECT count(*) FROM shipping_methods") == 2
    assert scalar(db_file, "SELECT count(*) FROM tax_rates") == 28
    assert scalar(db_file, "SELECT count(*) FROM discounts") == 3
    assert scalar(db_file, "SELECT rate FROM tax_rates WHERE country = 'DE'") == 7
    assert "Checkout rules" not in run("seed", "--products", "1", "--no-rules").output


def test_openapi_prints_the_document(db_file: Path) -> None:
    result = run("openapi")
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/products" in document["paths"]
    assert "/api/v1/auth/token" in document["paths"]
    assert "DOCS_ENABLED" not in os.environ  # the command does not change the environment


def test_openapi_in_production_without_docs(db_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    document = json.loads(run("openapi").stdout)
    assert "/health" in document["paths"]


def test_seed_with_images_stores_a_png_per_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import select

    from storefront.context import AppContext
    from storefront.models import Product

    url = f"sqlite+aiosqlite:///{tmp_path}/seed.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("STORAGE_URL", f"file://{tmp_path}/uploads")
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["seed", "--products", "3", "--images"])
    get_settings.cache_clear()

    assert result.exit_code == 0, result.output

    async def keys() -> list[str | None]:
        context = AppContext.create(Settings(database_url=url))
        async with context.database.read_session() as session:
            found = list(await session.scalars(select(Product.image_key).order_by(Product.id)))
        await context.stop()
        return found

    image_keys = asyncio.run(keys())
    assert len(image_keys) == 3
    for key in image_keys:
        assert key is not None
        assert (tmp_path / "uploads" / key).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_database_errors_are_one_friendly_line(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"}
    done = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "storefront"), "db", "current"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Error:" in done.stderr
    assert "DATABASE_URL" in done.stderr
