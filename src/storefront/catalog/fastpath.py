"""The hot read path: an anonymous `GET /api/v1/products/{id}` answered from the
product cache without entering FastAPI's routing and dependency resolution.

Only a cache hit for a product everyone may see is answered here, with the very
bytes, ETag and 304 handling `read_product` gives; anything else (a miss, an
archived product, credentials, a malformed id) goes on to the route, which also
fills the cache. The outer middleware (request id, security headers, access
log, metrics) applies as to every request.
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from storefront.cache import CachedProduct, ProductCache
from storefront.catalog.router import read_product, router
from storefront.kit.etag import matches_if_none_match, too_long
from storefront.kit.schemas import MAX_ID


class CachedProductReads:
    def __init__(self, app: ASGIApp, cache: ProductCache) -> None:
        self.app = app
        self.cache = cache
        self.route = next(r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is read_product)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.cache.enabled:
            match = self.route.path_regex.match(scope["path"])
            product_id = _canonical_id(match["product_id"]) if match is not None else None
            if product_id is not None:
                headers = Headers(scope=scope)
                anonymous = "authorization" not in headers and "x-api-key" not in headers
                condition = headers.get("if-none-match")
                # An overlong If-None-Match goes on to the route, which refuses it.
                plain = anonymous and not too_long(condition)
                cached = await self._lookup(product_id) if plain else None
                if cached is not None and not cached.archived:
                    scope["route"] = self.route
                    if matches_if_none_match(condition, cached.etag):
                        await _send(send, 304, b"", [(b"etag", cached.etag.encode())])
                    else:
                        response_headers = [
                            (b"content-type", b"application/json"),
                            (b"etag", cached.etag.encode()),
                            (b"content-length", str(len(cached.body)).encode()),
                        ]
                        await _send(send, 200, cached.body, response_headers)
                    return
        await self.app(scope, receive, send)

    async def _lookup(self, product_id: int) -> CachedProduct | None:
        """A hit, or the result of the load another request has in flight."""
        if (hit := self.cache.get(product_id)) is not None:
            return hit
        if (pending := self.cache.pending(product_id)) is not None:
            with contextlib.suppress(Exception):
                return await asyncio.shield(pending)
        return None


def _canonical_id(text: str) -> int | None:
    """The id a path segment names in its one canonical spelling (no sign, no
    leading zero, within the route's bound); other spellings go to the route."""
    if not (text.isascii() and text.isdigit()) or text.startswith("0") or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
