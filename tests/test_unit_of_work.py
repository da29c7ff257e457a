"""The unit of work: what a transaction causes is made known once it commits,
exactly once, and never when it rolls back; the same for a request and for the
`Database.transaction()` that CLI commands and the worker commit through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from sqlalchemy import event, func, select, update

from storefront.config import Settings
from storefront.context import AppContext, context_of
from storefront.main import create_app
from storefront.messages import ProductsChanged, SessionsEnded
from storefront.models import Email, Event, Product
from storefront.uow import WriteInReadSession
from tests.factories import Factory


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
