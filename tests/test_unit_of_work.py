"""The unit of work: what a transaction causes is made known once it commits,
exactly once, and never when it rolls back; the same for a request, for a CLI
command in its own process and for the worker, which all commit through one
`UnitOfWork.commit()`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import event, func, select, update

from storefront.broker import PRODUCTS_CHANNEL
from storefront.config import Settings
from storefront.context import AppContext, context_of
from storefront.database import Database
from storefront.db import utcnow
from storefront.main import create_app
from storefront.messages import ProductsChanged, SessionsEnded
from storefront.models import Email, Event, Order, Product
from storefront.orders import notify
from storefront.uow import WriteInReadSession
from storefront.worker import Worker
from tests.factories import Factory

# The Redis every machine of this project runs (the suite's scale-out tests use it too).
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def context(settings: Settings, database: object) -> AsyncIterator[AppContext]:
    context = AppContext.create(settings)
    await context.start()
    yield context
    await context.stop()


class Heard:
    def __init__(self, context: AppContext) -> None:
        self.products: list[ProductsChanged | None] = []
        context.broker.on_products_changed(self.products.append)
        self.jobs = context.jobs


async def _cause_everything_then_fail(context: AppContext) -> None:
    async with context.database.transaction() as uow:
        await uow.record_event("product.updated", {"id": 7})
        await uow.queue_message(to="ada@example.com", subject="Hi", text="hello")
        uow.evict(7)
        uow.end_sessions(SessionsEnded(user_id=1, session_ids=(3,)))
        raise RuntimeError


async def _count(context: AppContext, model: type[Event] | type[Email]) -> int:
    async with context.database.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_rolled_back_unit_of_work_writes_and_announces_nothing(context: AppContext) -> None:
    heard = Heard(context)
    with context.broker.subscribe() as stream, context.broker.subscribe(1, 3) as session_stream:
        with pytest.raises(RuntimeError):
            await _cause_everything_then_fail(context)

        assert stream.queue.empty()
        assert not session_stream.closed
    assert heard.products == []
    assert not heard.jobs.event.is_set()
    assert await _count(context, Event) == await _count(context, Email) == 0


async def test_a_committed_unit_of_work_announces_each_effect_once(context: AppContext) -> None:
    heard = Heard(context)
    with context.broker.subscribe() as stream, context.broker.subscribe(1, 3) as session_stream:
        async with context.database.transaction() as uow:
            event = await uow.record_event("product.updated", {"id": 7})
            await uow.queue_message(to="ada@example.com", subject="Hi", text="hello")
            uow.evict(7, 8)
            uow.evict(8)
            uow.end_sessions(SessionsEnded(user_id=1, session_ids=(3,)))
            assert stream.queue.empty()  # nothing before the commit

        published = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
        assert event.id is not None  # numbered by the commit's flush
        assert [e.id for e in published if e is not None] == [event.id]
        assert session_stream.closed
        assert session_stream.session_ended
    assert heard.products == [ProductsChanged(product_ids=(7, 8))]
    assert heard.jobs.event.is_set()
    assert await _count(context, Event) == await _count(context, Email) == 1


async def test_a_request_announces_only_what_it_committed(settings: Settings, factory: Factory) -> None:
    """A failed order (the second line is short of stock) rolls back the first
    line's stock change: no event, no email, no eviction. A placed one makes
    each known once, after its commit."""
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        context = context_of(app)
        heard = Heard(context)
        buyer = await factory.customer()
        plenty, scarce = await factory.product(stock=5), await factory.product(stock=1)
        with context.broker.subscribe() as stream:
            lines = [{"product_id": plenty.id, "quantity": 2}, {"product_id": scarce.id, "quantity": 3}]
            failed = await client.post("/api/v1/orders", json={"items": lines}, headers=buyer.headers)

            assert failed.status_code == 409
            assert stream.queue.empty()
            assert heard.products == []
            assert not heard.jobs.event.is_set()

            lines[1]["quantity"] = 1
            placed = await client.post("/api/v1/orders", json={"items": lines}, headers=buyer.headers)

            assert placed.status_code == 201
            published = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
            assert [e.type for e in published if e is not None].count("order.created") == 1
            assert heard.products == [ProductsChanged(product_ids=(plenty.id, scarce.id))]
            assert heard.jobs.event.is_set()
        assert await _count(context, Event) == len(published)
        assert await _count(context, Email) == 1


async def test_a_read_session_refuses_to_write_and_changes_nothing(context: AppContext, factory: Factory) -> None:
    product = await factory.product(stock=5)
    async with context.database.read_session() as session:
        with pytest.raises(WriteInReadSession):
            await session.execute(update(Product).where(Product.id == product.id).values(stock=0))
    async with context.database.read_session() as session:
        session.add(Email(kind="message", to="ada@example.com", subject="Hi", body_text="hello", attempts=0))
        with pytest.raises(WriteInReadSession):
            await session.flush()
    assert (await factory.reload(Product, product.id)).stock == 5
    assert await _count(context, Email) == 0


async def test_a_read_request_runs_its_statements_without_a_transaction(settings: Settings, factory: Factory) -> None:
    """No BEGIN and COMMIT round trips around a read: on SQLite no BEGIN is
    sent; on PostgreSQL the connection is in autocommit."""
    buyer = await factory.customer()
    sent: list[str] = []
    levels: list[bool | None] = []

    def record(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split()[0].upper())
        # The driver's own flag: asyncpg sends no BEGIN for an autocommit connection.
        levels.append(getattr(connection.connection.dbapi_connection, "autocommit", None))

    app = create_app(settings)
    engine = context_of(app).database.engine.sync_engine
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        event.listen(engine, "before_cursor_execute", record)
        response = await client.get("/api/v1/users/me", headers=buyer.headers)
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    assert sent == ["SELECT"]  # the session check and the user, in one statement
    if not settings.is_sqlite:
        assert levels == [True]


async def test_the_worker_announces_only_what_it_committed(
    context: AppContext, settings: Settings, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's payment deadline: a cancellation that fails before its commit
    announces nothing; the one that commits announces its event, its email and
    its product's eviction once."""
    buyer = await factory.customer()
    product = await factory.product(stock=5)
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        AsyncClient(transport=ASGITransport(app=manager.app), base_url="http://test") as client,
    ):
        lines = [{"product_id": product.id, "quantity": 2}]
        placed = await client.post("/api/v1/orders", json={"items": lines}, headers=buyer.headers)
    assert placed.status_code == 201
    order_id = placed.json()["id"]
    async with context.database.transaction() as uow:
        await uow.execute(update(Order).where(Order.id == order_id).values(payment_due_at=utcnow() - timedelta(1)))
    worker = Worker(context.database, settings, context.jobs)
    emails_before = await _count(context, Email)

    async def crash(*_: object, **__: object) -> None:
        raise RuntimeError("the worker died before committing")

    with context.broker.subscribe() as stream:
        heard = Heard(context)
        heard.jobs.event.clear()
        with monkeypatch.context() as patched:
            patched.setattr(notify, "status_changed", crash)
            assert await worker.cancel_unpaid() == []
        assert stream.queue.empty()
        assert heard.products == []
        assert not heard.jobs.event.is_set()
        assert await _count(context, Email) == emails_before

        assert await worker.cancel_unpaid() == [order_id]

        published = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
        assert [(e.type, e.data["status"]) for e in published if e is not None] == [
            ("order.status_changed", "cancelled")
        ]
        assert heard.products == [ProductsChanged(product_ids=(product.id,))]
        assert heard.jobs.event.is_set()
    assert await _count(context, Email) == emails_before + 1


def _seed(database_url: str, storage_url: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    """`storefront seed` in its own process, publishing through Redis."""
    environment = {
        **{name: value for name, value in os.environ.items() if name.lower() not in Settings.model_fields},
        "DATABASE_URL": database_url,
        "STORAGE_URL": storage_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "cli-test-secret-key-that-is-long-enough",
    }
    storefront = Path(sys.executable).with_name("storefront")
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(storefront), "seed", "--products", "3", "--images", "--no-rules"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment,
    )


async def test_a_cli_command_announces_only_what_it_committed(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    """`storefront seed` in its own process: a seed that fails before its commit
    (its images cannot be stored) evicts nothing in the running servers; the one
    that commits evicts its products there once, through Redis."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the images would go")
    async with Redis.from_url(REDIS_URL) as redis, redis.pubsub() as pubsub:
        await pubsub.subscribe(PRODUCTS_CHANNEL)
        await pubsub.get_message(timeout=1.0)  # the subscription's confirmation
        failed = await asyncio.to_thread(_seed, settings.database_url, f"file://{blocked}", REDIS_URL)
        assert failed.returncode != 0
        assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
        async with database.read_session() as session:
            assert await session.scalar(select(func.count()).select_from(Product)) == 0

        seeded = await asyncio.to_thread(_seed, settings.database_url, f"file://{tmp_path}/uploads", REDIS_URL)
        assert seeded.returncode == 0, seeded.stderr

        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
        assert message is not None
        async with database.read_session() as session:
            ids = tuple(await session.scalars(select(Product.id).order_by(Product.id)))
        assert len(ids) == 3
        assert set(ProductsChanged.model_validate_json(message["data"]).product_ids) == set(ids)
        assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5) is None
