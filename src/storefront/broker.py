"""The broker: what a commit causes elsewhere, fanned out to every process.

Three channels (`storefront.messages`): committed events go to the streams
open here; ended login sessions close their streams; changed products are
evicted from the product cache. `LocalBroker` reaches this process only (the
embedded default). With `REDIS_URL`, `RedisBroker` publishes on Redis channels
and one subscriber per process fans out what arrives, so every worker process
and every replica hears everything. A stream that cannot keep up is dropped;
its client reconnects and replays what it missed from the event log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from typing import Generic, TypeVar

from redis.asyncio import Redis

from storefront.errors import AppError
from storefront.log import get_logger
from storefront.messages import ProductsChanged, PublishedEvent, SessionsEnded

CHANNEL = "storefront:events"
SESSIONS_CHANNEL = "storefront:sessions-ended"
PRODUCTS_CHANNEL = "storefront:products-changed"
QUEUE_SIZE = 1000
log = get_logger("storefront.events")
K = TypeVar("K", bound=Hashable)


class Subscription:
    """One stream's feed; a stream of a user names its login session, so that
    the session's end can close it."""

    def __init__(self, user_id: int | None = None, session_id: int | None = None) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.queue: asyncio.Queue[PublishedEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self.closed = False
        self.session_ended = False

    def offer(self, event: PublishedEvent | None) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close()

    def close(self, *, session_ended: bool = False) -> None:
        """End the subscription: the stream's iterator finishes at once; what is
        still queued is dropped (a client replays it when it reconnects)."""
        if not self.closed:
            self.closed = True
            self.session_ended = session_ended
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[PublishedEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[PublishedEvent]:
        # Checked after each wait: an ended session gets nothing that was still queued.
        while (event := await self.queue.get()) is not None and not self.closed:
            yield event


ProductListener = Callable[[ProductsChanged | None], None]


class LocalBroker:
    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()
        self.product_listeners: list[ProductListener] = []

    def on_products_changed(self, listener: ProductListener) -> None:
        """Call `listener` for every change; with None when changes may have been missed (Redis reconnected)."""
        self.product_listeners.append(listener)

    def products_changed_here(self, changed: ProductsChanged | None) -> None:
        for listener in self.product_listeners:
            listener(changed)

    async def products_changed(self, changed: ProductsChanged) -> None:
        self.products_changed_here(changed)

    @contextlib.contextmanager
    def subscribe(self, user_id: int | None = None, session_id: int | None = None) -> Iterator[Subscription]:
        subscription = Subscription(user_id, session_id)
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

    def close_sessions(self, ended: SessionsEnded) -> None:
        """Close this process's streams of the ended sessions."""
        for subscription in list(self.subscriptions):
            if subscription.user_id is not None and ended.ends(subscription.user_id, subscription.session_id):
                subscription.close(session_ended=True)

    async def end_sessions(self, ended: SessionsEnded) -> None:
        self.close_sessions(ended)

    @property
    def open_streams(self) -> int:
        return len(self.subscriptions)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        """Shutdown: end every open stream (their sockets close with 1001)."""
        self.close_all()

    def close_all(self) -> None:
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

    async def end_sessions(self, ended: SessionsEnded) -> None:
        # Here at once (Redis may be down); every other process through Redis.
        self.close_sessions(ended)
        await self.redis.publish(SESSIONS_CHANNEL, ended.model_dump_json())

    async def products_changed(self, changed: ProductsChanged) -> None:
        self.products_changed_here(changed)
        await self.redis.publish(PRODUCTS_CHANNEL, changed.model_dump_json())

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="storefront-event-listener")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL, SESSIONS_CHANNEL, PRODUCTS_CHANNEL)
                    self._ready.set()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._dispatch(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: retry
                log.warning("event_listener_reconnecting", error=type(exc).__name__)
                # Events and ended sessions may have been missed meanwhile: every
                # stream ends, and its client reconnects (authenticating again)
                # and replays what it missed.
                self.close_all()
                self.products_changed_here(None)
                self._ready.set()
                await asyncio.sleep(1)

    def _dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        if name == SESSIONS_CHANNEL:
            self.close_sessions(SessionsEnded.model_validate_json(data))
        elif name == PRODUCTS_CHANNEL:
            changed = ProductsChanged.model_validate_json(data)
            self.products_changed_here(changed)
        else:
            self.deliver(PublishedEvent.model_validate_json(data))

    async def close(self) -> None:
        await super().close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


class TooManyStreams(AppError):
    status_code = 429
    code = "too_many_streams"

    def default_detail(self) -> str:
        return "Too many open event streams for this account; close one first."


class Slots(Generic[K]):
    """Open connections per key (a user, an address) in this process, capped."""

    def __init__(self, limit: int, detail: str | None = None) -> None:
        self.limit = limit
        self.detail = detail
        self.open: Counter[K] = Counter()

    def acquire(self, key: K) -> bool:
        if self.open[key] >= self.limit:
            return False
        self.open[key] += 1
        return True

    def release(self, key: K) -> None:
        self.open[key] -= 1
        if self.open[key] <= 0:
            del self.open[key]

    @contextlib.contextmanager
    def hold(self, key: K) -> Iterator[None]:
        """One slot for the block; TooManyStreams when none is free."""
        if not self.acquire(key):
            raise TooManyStreams(self.detail)
        try:
            yield
        finally:
            self.release(key)

    @property
    def total(self) -> int:
        return sum(self.open.values())


class StreamCounter:
    """The caps of this process: event streams per user, WebSockets and streams per client address."""

    def __init__(self, per_user: int, *, per_address: int) -> None:
        self.per_user = Slots[int](per_user)
        self.per_address = Slots[str](per_address, "Too many open connections from this address; close one first.")

    @property
    def total(self) -> int:
        """Open event streams."""
        return self.per_user.total
