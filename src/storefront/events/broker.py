"""Fan-out of committed events to the streams open in this process.

`LocalBroker` delivers to this process only (the embedded default). With
`REDIS_URL`, `RedisBroker` publishes on a Redis channel and one subscriber per
process fans out what arrives, so every worker process and every replica
delivers every event. A subscriber that cannot keep up is dropped; its client
reconnects and replays what it missed from the event log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

from redis.asyncio import Redis

from storefront.events.schemas import PublishedEvent
from storefront.log import get_logger

CHANNEL = "storefront:events"
QUEUE_SIZE = 1000
log = get_logger("storefront.events")


class Subscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[PublishedEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self.closed = False

    def offer(self, event: PublishedEvent | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """End the subscription: the stream's iterator finishes."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[PublishedEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[PublishedEvent]:
        while (event := await self.queue.get()) is not None:
            yield event


class LocalBroker:
    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription()
        self.subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self.subscriptions.discard(subscription)

    def deliver(self, event: PublishedEvent) -> None:
        for subscription in list(self.subscriptions):
            subscription.offer(event)

    async def publish(self, events: list[PublishedEvent]) -> None:
        for event in events:
            self.deliver(event)

    @property
    def open_streams(self) -> int:
        return len(self.subscriptions)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        """Shutdown: end every open stream (their sockets close with 1001)."""
        for subscription in list(self.subscriptions):
            subscription.close()


class RedisBroker(LocalBroker):
    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self.redis = redis
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def publish(self, events: list[PublishedEvent]) -> None:
        for event in events:
            await self.redis.publish(CHANNEL, event.model_dump_json())

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="storefront-event-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.deliver(PublishedEvent.model_validate_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: retry; clients replay what they missed
                log.warning("event_listener_reconnecting", error=type(exc).__name__)
                self._ready.set()
                await asyncio.sleep(1)

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
