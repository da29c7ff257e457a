"""Test wiring: a migrated database per run, emptied after every test, and an
async client on the ASGI app.

`TEST_DATABASE` picks the database: `sqlite` (default) or `postgres`, where a
fresh database is created on `TEST_POSTGRES_URL` for the run and dropped after.
Each test starts from empty tables, so tests never see each other's data while
still using real, separate connections (concurrency tests need them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storefront import migrations
from storefront.config import Settings
from storefront.context import AppContext
from storefront.database import Database
from storefront.db import Base
from storefront.main import create_app
from storefront.server import StorefrontServer
from tests.factories import Factory

BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


def pytest_report_header() -> str:
    return f"storefront test database: {BACKEND}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if BACKEND != "postgres":
        skip = pytest.mark.skip(reason="needs PostgreSQL (TEST_DATABASE=postgres)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if BACKEND == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "storefront.db"
        url = f"sqlite+aiosqlite:///{path}"
        migrations.upgrade(Settings(database_url=url))
        yield url
        return
    name = f"storefront_test_{uuid.uuid4().hex[:12]}"
    _postgres_admin(f'CREATE DATABASE "{name}"')
    url = POSTGRES_SERVER.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrations.upgrade(Settings(database_url=url))
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin(statement: str) -> None:
    import asyncio

    async def run() -> None:
        engine = create_async_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        app_env="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        storage_url=f"file://{tmp_path}/uploads",
        mail_dir=tmp_path / "mail",
        # Tests drive the worker themselves (tests/test_worker.py runs it embedded).
        worker_embedded=False,
        rate_limits_enabled=False,
        log_level="WARNING",
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The database, through an app context of the test's own (the app under test has another)."""
    context = AppContext.create(settings)
    yield context.database
    await _empty_tables(context.database)
    await context.stop()


async def _empty_tables(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with database.engine.begin() as connection:
        # DELETE, not TRUNCATE: the tables hold a test's few rows, and TRUNCATE
        # (new files for every table and index) cost PostgreSQL 0.15 s a test.
        for table in tables:
            await connection.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - table names from metadata
        if database.engine.dialect.name == "postgresql":
            # Ids start again at 1, as on SQLite (whose tables have no AUTOINCREMENT).
            await connection.execute(
                text("SELECT setval(format('%I', sequencename)::regclass, 1, false) FROM pg_sequences"
                     " WHERE schemaname = current_schema()")
            )  # fmt: skip


@pytest.fixture
async def app_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def client(app_client: AsyncClient) -> AsyncClient:
    return app_client


@pytest.fixture
def factory(database: Database, settings: Settings) -> Factory:
    return Factory(database, settings)


class _TestServer(StorefrontServer):
    """uvicorn in the test's own event loop, leaving signal handling to pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class LiveServer:
    app: FastAPI
    url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """Shut down as on SIGTERM."""
        self.server.should_exit = True
        await asyncio.wait_for(asyncio.shield(self.task), timeout=30)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1)


@pytest.fixture
async def live_server(settings: Settings, database: Database) -> AsyncIterator[LiveServer]:
    """The app served over real loopback HTTP and WebSockets (streams need it)."""
    app = create_app(settings)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _TestServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    live = LiveServer(app=app, url=f"http://127.0.0.1:{port}", server=server, task=task)
    yield live
    await live.stop()
