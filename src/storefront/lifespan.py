"""What runs beside the requests: event fan-out, the embedded worker, Redis."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from redis.asyncio import Redis

from storefront.db import Database
from storefront.events.broker import LocalBroker, RedisBroker
from storefront.events.stream import StreamCounter
from storefront.server import on_shutdown
from storefront.worker import Worker


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    database: Database = app.state.database
    settings = database.settings
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    broker = RedisBroker(redis) if redis is not None else LocalBroker()
    await broker.start()
    database.broker = broker
    cache = database.product_cache
    if cache is not None:
        await cache.follow(broker)
    app.state.redis = redis
    app.state.stream_counter = StreamCounter(settings.stream_max_per_user, per_address=settings.ws_max_per_address)

    worker: Worker | None = None
    worker_task: asyncio.Task[None] | None = None
    if settings.worker_embedded:
        worker = Worker(database, settings)
        database.on_email_queued = worker.notify
        worker_task = asyncio.create_task(worker.run(), name="storefront-worker")
    app.state.worker = worker
    # Everything built so far lives as long as the process: moving it out of the
    # collector's sight keeps full collections short, and with them tail latency.
    gc.collect()
    gc.freeze()
    remove_hook = on_shutdown(broker.close)
    try:
        yield
    finally:
        remove_hook()
        # Streams end first (their sockets close with 1001), then the worker
        # finishes or releases what it holds, then connections close.
        await broker.close()
        if cache is not None:
            await cache.close()
        if worker is not None:
            await worker.stop(worker_task)
        if redis is not None:
            await redis.aclose()
        if (provider := getattr(app.state, "tracer_provider", None)) is not None:
            provider.shutdown()  # flushes the spans still batched
        await database.dispose()
