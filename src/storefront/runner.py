"""`storefront worker`: the job worker as a process of its own."""

from __future__ import annotations

import asyncio
import signal

from storefront.config import Settings
from storefront.context import AppContext
from storefront.log import configure_logging
from storefront.webhooks.sender import backlog
from storefront.worker import Worker, queue_status


async def run_worker(settings: Settings) -> None:
    """Run until SIGTERM or SIGINT, then finish or release what is held and exit 0."""
    configure_logging(settings.log_level, settings.log_format)
    context = AppContext.create(settings)
    worker = Worker(context.database, context.settings, context.jobs, resolver=context.resolver)
    task = asyncio.create_task(worker.run(), name="storefront-worker")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait({task, asyncio.ensure_future(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        await worker.stop(task)
    finally:
        await context.stop()


async def show_status(settings: Settings) -> dict[str, dict[str, int]]:
    """The email outbox and the webhook deliveries, by state."""
    context = AppContext.create(settings)
    try:
        return {"emails": await queue_status(context.database), "webhooks": await backlog(context.database)}
    finally:
        await context.stop()
