"""Webhook test wiring: a receiver over real HTTP, a DNS the test controls, the
app and workers with short retry delays and loopback receivers allowed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from storefront.config import Settings
from storefront.context import AppContext
from storefront.database import Database
from storefront.main import create_app
from storefront.worker import Worker
from tests.factories import Actor, Factory
from tests.webhooks.receiver import Receiver, running_receiver

WEBHOOKS = "/api/v1/webhooks"


class FakeDNS:
    """The resolver the app and the workers are given: names map to what the test says."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.names:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return list(self.names[host])


@pytest.fixture
def dns() -> FakeDNS:
    return FakeDNS()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_retry_base_seconds": 0.05,
            "webhook_timeout_seconds": 2.0,
            "worker_poll_seconds": 0.05,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@asynccontextmanager
async def api_client(settings: Settings, dns: FakeDNS) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, resolver=dns)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app, raise_app_exceptions=False), base_url="http://test") as c,
    ):
        yield c


@pytest.fixture
async def api(hook_settings: Settings, dns: FakeDNS, database: Database) -> AsyncIterator[AsyncClient]:
    async with api_client(hook_settings, dns) as client:
        yield client


@pytest.fixture
async def admin(factory: Factory) -> Actor:
    return await factory.admin()


async def subscribe(api: AsyncClient, admin: Actor, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = await api.post(WEBHOOKS, json={"url": url, "events": events or ["*"]}, headers=admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


@asynccontextmanager
async def running_worker(settings: Settings, dns: FakeDNS | None = None) -> AsyncIterator[Worker]:
    """A job worker with its own engine and connections, as another process would have."""
    context = AppContext.create(settings)
    worker = Worker(context.database, settings, context.jobs, resolver=dns)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop(task)
        await context.stop()


async def deliveries(api: AsyncClient, admin: Actor, webhook_id: int) -> list[dict[str, Any]]:
    response = await api.get(f"{WEBHOOKS}/{webhook_id}/deliveries", headers=admin.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


async def eventually(check: Any, within: float = 15.0) -> Any:
    """Polls the async `check` until it returns something true."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if result := await check():
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {within} s")
        await asyncio.sleep(0.05)
