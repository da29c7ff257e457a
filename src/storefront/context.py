"""The application context: every long-lived collaborator, typed, built once.

`AppContext.create(settings)` builds them without I/O (the app, the CLI and
the worker alike); `start()` connects what needs connecting (the broker's Redis
subscription) and `stop()` ends it all in order. Nothing here is optional at
run time: a missing collaborator is a start-up error, never a silent no-op.
Request code reaches the context through `ContextDep` (and `SessionDep`, the
request's unit of work); CLI commands and the worker are handed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from storefront.broker import LocalBroker, RedisBroker, StreamCounter
from storefront.cache import ProductCache
from storefront.config import Settings
from storefront.database import Database
from storefront.kit.net import Resolver, system_resolver
from storefront.kit.ratelimit import RateLimiter
from storefront.kit.routing import JSONRoute, writing
from storefront.kit.storage import Storage, storage_from_settings
from storefront.messages import PublishedEvent
from storefront.payments.adapters import provider_from_settings
from storefront.payments.provider import PaymentProvider
from storefront.uow import Pending, UnitOfWork


class JobSignal:
    """Wakes the job worker of this process when work was committed (it also polls)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def notify(self) -> None:
        self.event.set()


class Dispatcher:
    """Where a committed unit of work's effects go: the broker (streams, every
    process's product cache) and this process's job worker."""

    def __init__(self, broker: LocalBroker, jobs: JobSignal) -> None:
        self.broker = broker
        self.jobs = jobs

    async def dispatch(self, pending: Pending) -> None:
        if pending.jobs_queued:
            self.jobs.notify()
        if (products := pending.products) is not None:
            await self.broker.products_changed(products)
        for ended in pending.ended_sessions:
            await self.broker.end_sessions(ended)
        if pending.events:
            await self.broker.publish([PublishedEvent.model_validate(event) for event in pending.events])


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    database: Database
    broker: LocalBroker
    redis: Redis | None
    product_cache: ProductCache
    rate_limiter: RateLimiter
    storage: Storage
    payments: PaymentProvider
    jobs: JobSignal
    streams: StreamCounter
    # How outbound host names are resolved (webhook endpoints); tests give their own.
    resolver: Resolver

    @classmethod
    def create(
        cls, settings: Settings, rate_limiter: RateLimiter | None = None, resolver: Resolver | None = None
    ) -> AppContext:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        broker = RedisBroker(redis) if redis is not None else LocalBroker()
        jobs = JobSignal()
        cache = ProductCache(settings.product_cache_seconds)
        cache.follow(broker)
        return cls(
            settings=settings,
            database=Database(settings, Dispatcher(broker, jobs)),
            broker=broker,
            redis=redis,
            product_cache=cache,
            rate_limiter=rate_limiter or RateLimiter(settings),
            storage=storage_from_settings(settings),
            payments=provider_from_settings(settings),
            jobs=jobs,
            streams=StreamCounter(settings.stream_max_per_user, per_address=settings.ws_max_per_address),
            resolver=resolver or system_resolver,
        )

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        """Streams end (their sockets close with 1001), then connections close."""
        await self.broker.close()
        await self.payments.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()


def context_of(app: Starlette) -> AppContext:
    """The context `create_app()` built for `app`."""
    context = app.state.context
    assert isinstance(context, AppContext), "create_app() sets app.state.context"
    return context


def app_context(connection: HTTPConnection) -> AppContext:
    """The context of the app serving this request or socket."""
    return context_of(connection.app)


async def _context(connection: HTTPConnection) -> AppContext:
    return app_context(connection)


ContextDep = Annotated[AppContext, Depends(_context)]


async def _settings(connection: HTTPConnection) -> Settings:
    return app_context(connection).settings


async def _database(connection: HTTPConnection) -> Database:
    return app_context(connection).database


async def _storage(connection: HTTPConnection) -> Storage:
    return app_context(connection).storage


async def _rate_limiter(connection: HTTPConnection) -> RateLimiter:
    return app_context(connection).rate_limiter


async def _payments(connection: HTTPConnection) -> PaymentProvider:
    return app_context(connection).payments


async def _resolver(connection: HTTPConnection) -> Resolver:
    return app_context(connection).resolver


SettingsDep = Annotated[Settings, Depends(_settings)]
ResolverDep = Annotated[Resolver, Depends(_resolver)]
DatabaseDep = Annotated[Database, Depends(_database)]
StorageDep = Annotated[Storage, Depends(_storage)]
RateLimiterDep = Annotated[RateLimiter, Depends(_rate_limiter)]
PaymentsDep = Annotated[PaymentProvider, Depends(_payments)]


async def get_session(connection: HTTPConnection) -> AsyncIterator[UnitOfWork]:
    """One unit of work per request, committed once when the endpoint returns.

    Its kind is the route's: a writing transaction (on SQLite `BEGIN
    IMMEDIATE`, the write lock taken up front) when the route declares
    `WriteSession` anywhere among its dependencies, else a reading one. The
    dependency has `scope="function"`, so the commit (and the dispatch of its
    effects) runs before the response is sent: a failed commit becomes an
    error response, never a success the database did not keep. A session that
    never began a transaction (a cached read) skips the commit's round trip.
    """
    database = app_context(connection).database
    route = connection.scope.get("route")
    writes = isinstance(route, JSONRoute) and route.writes
    session = database.write_session() if writes else database.read_session()
    try:
        yield session
        if session.in_transaction():
            await session.commit()
    except BaseException:
        await session.close()  # rolls back and returns the connection, also after a failed commit
        raise


# The request's unit of work, of the kind its route declares: what dependencies take.
SessionDep = Annotated[UnitOfWork, Depends(get_session, scope="function")]


async def _write_session(session: SessionDep, _: Annotated[None, Depends(writing)]) -> UnitOfWork:
    return session


# What endpoints declare: `ReadSession` to read, `WriteSession` to change anything.
ReadSession = SessionDep
WriteSession = Annotated[UnitOfWork, Depends(_write_session)]
