"""Liveness and readiness, through a real database outage and its recovery."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url

from storefront.config import Settings
from storefront.main import create_app
from tests.conftest import BACKEND

READY = {"status": "ready", "checks": {"database": "ok"}}
UNAVAILABLE = {"status": "unavailable", "checks": {"database": "unavailable"}}


async def test_health(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


async def test_ready(client: AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == READY


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def assert_ready(client: AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json() == READY


async def assert_unavailable(client: AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 503, response.text
    assert response.json() == UNAVAILABLE
    assert response.headers["x-request-id"]
    # Liveness does not depend on the database: the process still answers.
    health = await client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite file outage")
async def test_ready_follows_sqlite_file_outage_and_recovery(settings: Settings, tmp_path: Path) -> None:
    """The folder holding the database file goes away (an unmounted volume) and comes back."""
    folder = tmp_path / "volume"
    folder.mkdir()
    database_file = folder / "outage.db"
    async with app_client(
        settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database_file}"})
    ) as client:
        await assert_ready(client)
        assert database_file.exists()

        folder.rename(tmp_path / "elsewhere")
        await assert_unavailable(client)
        await assert_unavailable(client)
        assert not folder.exists()  # the check did not create an empty database in its place

        (tmp_path / "elsewhere").rename(folder)
        await assert_ready(client)


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite file outage")
async def test_ready_when_sqlite_file_is_not_a_database(settings: Settings, tmp_path: Path) -> None:
    database_file = tmp_path / "broken.db"
    database_file.write_bytes(b"this is not a database" * 100)
    async with app_client(
        settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database_file}"})
    ) as client:
        await assert_unavailable(client)


class TCPProxy:
    """A TCP relay in front of PostgreSQL that can be cut and restored, on the same port."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones, like a database that went down."""
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()
        self.server = None

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self.writers |= {client_writer, upstream_writer}
        for source, target in ((client_reader, upstream_writer), (upstream_reader, client_writer)):
            task = asyncio.create_task(self._pipe(source, target))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            self.writers.discard(writer)


@pytest.mark.postgres_only
async def test_ready_follows_postgres_outage_and_recovery(settings: Settings) -> None:
    """The network path to PostgreSQL is cut (open connections dropped, new ones refused), then restored."""
    url = make_url(settings.database_url)
    proxy = TCPProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with app_client(settings.model_copy(update={"database_url": proxied})) as client:
            await assert_ready(client)

            await proxy.stop()
            await assert_unavailable(client)
            await assert_unavailable(client)

            await proxy.start()
            await assert_ready(client)
            await assert_ready(client)
    finally:
        if proxy.server is not None:
            await proxy.stop()
