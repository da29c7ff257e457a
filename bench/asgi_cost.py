"""CPU per request of the app alone: raw ASGI calls in one process, no server, no network.

What `make bench` measures through uvicorn and wrk is noisy on a shared
machine; this isolates the app's own cost of the cached anonymous product read
and of `/health` (process CPU time, best of 3 runs of 20,000 calls each). To
compare two versions, run it against each source tree:

    PYTHONPATH=src .venv/bin/python bench/asgi_cost.py
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python bench/asgi_cost.py
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import MutableMapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from storefront import migrations
from storefront.config import Settings
from storefront.main import create_app
from storefront.models import Product

CALLS = int(os.environ.get("CALLS", "20000"))
RUNS = 3


def settings_in(directory: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=f"sqlite+aiosqlite:///{directory}/cost.db",
        secret_key="asgi-cost-secret-key-long-enough-for-hs256",  # noqa: S106 - a throwaway app
        storage_url=f"file://{directory}/uploads",
        mail_dir=directory / "mail",
        worker_embedded=False,
        rate_limits_enabled=False,
        log_level="WARNING",
        product_cache_seconds=3600.0,
    )


async def add_product(url: str) -> int:
    engine = create_async_engine(url)
    async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
        product = Product(name="P", description="D", price=Decimal("10.00"), category="general", stock=10)
        session.add(product)
    await engine.dispose()
    return product.id


async def cost(app: Any, path: str) -> float:
    """Microseconds of CPU per call, best of RUNS."""
    statuses: set[int] = set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    def scope() -> dict[str, Any]:
        return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                "headers": [(b"host", b"test"), (b"accept", b"*/*")], "client": ("127.0.0.1", 1234),
                "server": ("test", 80), "state": {}}  # fmt: skip

    for _ in range(CALLS // 10):  # warm-up
        await app(scope(), receive, send)
    best = float("inf")
    for _ in range(RUNS):
        started = time.process_time()
        for _ in range(CALLS):
            await app(scope(), receive, send)
        best = min(best, (time.process_time() - started) / CALLS * 1e6)
    if statuses != {200}:
        raise SystemExit(f"{path} answered {sorted(statuses)}, not only 200")
    return best


async def measure(settings: Settings) -> None:
    product_id = await add_product(settings.database_url)
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        async with AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client:
            (await client.get(f"/api/v1/products/{product_id}")).raise_for_status()  # fills the cache
        for label, path in (("cached product read", f"/api/v1/products/{product_id}"), ("/health", "/health")):
            print(f"{label:20s} {await cost(manager.app, path):7.1f} µs CPU per request (best of {RUNS} x {CALLS:,})")


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="storefront-asgi-cost-"))
    try:
        settings = settings_in(directory)
        migrations.upgrade(settings)
        asyncio.run(measure(settings))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
