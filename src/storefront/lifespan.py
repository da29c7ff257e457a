"""What runs beside the requests: the app context's connections and the embedded worker."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from storefront.context import context_of
from storefront.worker import Worker


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    context = context_of(app)
    await context.start()
    worker: Worker | None = None
    worker_task: asyncio.Task[None] | None = None
    if context.settings.worker_embedded:
        worker = Worker(context.database, context.settings, context.jobs, resolver=context.resolver)
        worker_task = asyncio.create_task(worker.run(), name="storefront-worker")
    # Everything built so far lives as long as the process: moving it out of the
    # collector's sight keeps full collections short, and with them tail latency.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        # Streams end first (their sockets close with 1001), then the worker
        # finishes or releases what it holds, then connections close.
        await context.broker.close()
        if worker is not None:
            await worker.stop(worker_task)
        if app.state.tracer_provider is not None:
            app.state.tracer_provider.shutdown()  # flushes the spans still batched
        await context.stop()
