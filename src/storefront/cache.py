"""A short-lived cache of serialised product reads: the hot read paths skip the database.

`GET /api/v1/products/{id}` answers from here for up to `PRODUCT_CACHE_SECONDS`
(default 30 s), and so do pages of `GET /api/v1/products` as a customer or an
anonymous caller sees them. Every change made through the app evicts its
product after the commit, and every cached page with it (a change can move any
product into or out of any page): a unit of work that changed products
(`uow.evict`: catalog edits, stock taken or returned and `storefront seed` alike) publishes
`ProductsChanged` on the broker's own channel, heard at once in this process
and through Redis in every other. When the broker may have missed messages
(Redis reconnected), everything goes. A load that began before an eviction is
not cached (its rows may predate the change). The TTL only
bounds how long a change made behind the app's back (directly in the database,
or a lost pub/sub message) stays visible. Placing an order never reads this
cache: stock is checked by the database, so staleness costs freshness of a
displayed number, never correctness.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from storefront.broker import LocalBroker
from storefront.messages import ProductsChanged


@dataclass(frozen=True, slots=True)
class CachedProduct:
    body: bytes
    etag: str
    archived: bool
    expires: float


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    total: int
    expires: float


Loader = Callable[[], Awaitable[CachedProduct | None]]
PageLoader = Callable[[], Awaitable[tuple[bytes, int]]]


class ProductCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000, max_pages: int = 256) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_pages = max_pages
        self._entries: OrderedDict[int, CachedProduct] = OrderedDict()
        self._inflight: dict[int, asyncio.Future[CachedProduct | None]] = {}
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        # Counts evictions: a load that saw another value than its start's may hold rows from before a change.
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, product_id: int) -> CachedProduct | None:
        entry = self._entries.get(product_id)
        if entry is None:
            return None
        if entry.expires <= time.monotonic():
            self._entries.pop(product_id, None)
            return None
        return entry

    def put(self, product_id: int, entry: CachedProduct) -> None:
        if not self.enabled:
            return
        self._entries[product_id] = entry
        self._entries.move_to_end(product_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def load(
        self, product_id: int, loader: Callable[[], Awaitable[CachedProduct | None]]
    ) -> CachedProduct | None:
        """The cached entry, else one `loader()` call shared by every concurrent
        caller for this product (no stampede on the database when a hot entry expires).

        `loader` returns the entry to cache, or None when there is no such product.
        """
        if (hit := self.get(product_id)) is not None:
            return hit
        if (pending := self._inflight.get(product_id)) is not None:
            try:
                return await asyncio.shield(pending)
            except Exception:  # the leader failed or went away: try once ourselves
                return await loader()
        future: asyncio.Future[CachedProduct | None] = asyncio.get_running_loop().create_future()
        self._inflight[product_id] = future
        generation = self._generation
        try:
            entry = await loader()
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            self._inflight.pop(product_id, None)
        if entry is not None and generation == self._generation:
            self.put(product_id, entry)
        future.set_result(entry)
        return entry

    async def page(self, key: Hashable, loader: PageLoader) -> CachedPage:
        """The cached list page for `key`, else `loader()`'s body and total, cached unless a change came meanwhile."""
        entry = self._pages.get(key)
        now = time.monotonic()
        if entry is not None and entry.expires > now:
            self._pages.move_to_end(key)
            return entry
        generation = self._generation
        body, total = await loader()
        entry = CachedPage(body, total, time.monotonic() + self.ttl)
        if self.enabled and generation == self._generation:
            self._pages[key] = entry
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return entry

    def pending(self, product_id: int) -> asyncio.Future[CachedProduct | None] | None:
        """The load in flight for this product, if any."""
        return self._inflight.get(product_id)

    def entry(self, body: bytes, etag: str, *, archived: bool) -> CachedProduct:
        return CachedProduct(body, etag, archived, time.monotonic() + self.ttl)

    def evict(self, *product_ids: int) -> None:
        self._generation += 1
        self._pages.clear()
        for product_id in product_ids:
            self._entries.pop(product_id, None)

    def follow(self, broker: LocalBroker) -> None:
        """Evict what the broker says changed, from whichever process it came."""
        if self.enabled:
            broker.on_products_changed(self._changed)

    def _changed(self, changed: ProductsChanged | None) -> None:
        if changed is None:  # changes may have been missed: forget everything
            self._generation += 1
            self._entries.clear()
            self._pages.clear()
        else:
            self.evict(*changed.product_ids)
