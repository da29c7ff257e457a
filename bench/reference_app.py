"""The ceiling the benchmark compares Storefront against: a bare ASGI app, no framework.

It answers every benchmark scenario with the JSON Storefront sends (same shapes,
fixed values, bodies built once at import), under the uvicorn settings
`storefront serve` uses (uvloop, httptools, one worker, access log off, no proxy
headers). Whatever Storefront does above this (routing, validation, the
database, serialisation) is what its ratio to this app measures.

    .venv/bin/python bench/reference_app.py --port 8100
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

STAMP = "2026-01-01T00:00:00.000000Z"


def _product(product_id: int) -> dict[str, Any]:
    return {
        "id": product_id,
        "sku": None,
        "name": "Studio Mug",
        "description": "A studio mug that people come back for.",
        "price": "369.80",
        "category": "kitchen",
        "stock": 183,
        "in_stock": True,
        "image_url": None,
        "archived": False,
        "created_at": STAMP,
        "updated_at": STAMP,
    }


def _dump(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


HEALTH = _dump({"status": "ok"})
PRODUCT = _dump(_product(1))
PRODUCT_LIST = _dump([_product(n) for n in range(1, 21)])
USER = _dump(
    {
        "id": 2,
        "email": "ada.lovelace.2@example.com",
        "username": "ada_lovelace_2",
        "full_name": "Ada Lovelace",
        "role": "customer",
        "is_active": True,
        "created_at": STAMP,
    }
)
ORDER = _dump(
    {
        "id": 1,
        "user_id": 2,
        "status": "pending",
        "items": [
            {"product_id": 1, "name": "Studio Mug", "unit_price": "369.80", "quantity": 1, "line_total": "369.80"},
            {"product_id": 2, "name": "Eco Lamp", "unit_price": "20.00", "quantity": 1, "line_total": "20.00"},
        ],
        "subtotal": "389.80",
        "total": "389.80",
        "currency": "EUR",
        "shipping_address": None,
        "note": None,
        "created_at": STAMP,
        "updated_at": STAMP,
    }
)
TOKENS = _dump(
    {
        "access_token": "e" * 250,
        "token_type": "bearer",
        "expires_in": 900,
        "refresh_token": "r" * 43,
    }
)
NOT_FOUND = _dump({"type": "about:blank", "title": "Not Found", "status": 404, "code": "not_found"})
PRODUCTS = "/api/v1/products"


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    method, path = scope["method"], scope["path"]
    if method == "POST":
        more = True
        while more:  # read the body, as a real endpoint must
            message = await receive()
            more = message.get("more_body", False)
    status, body, extra = _route(method, path, scope["headers"])
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _route(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    if method == "GET" and path == "/health":
        return 200, HEALTH, []
    if method == "GET" and path == PRODUCTS:
        return 200, PRODUCT_LIST, [(b"x-total-count", b"1000")]
    if method == "GET" and path.startswith(PRODUCTS + "/"):
        etag = f'"product-{path.rsplit("/", 1)[1]}-v1"'.encode()
        for name, value in headers:
            if name == b"if-none-match" and value == etag:
                return 304, b"", [(b"etag", etag)]
        return 200, PRODUCT, [(b"etag", etag)]
    if method == "GET" and path == "/api/v1/users/me":
        return 200, USER, []
    if method == "POST" and path == "/api/v1/orders":
        return 201, ORDER, [(b"location", b"/api/v1/orders/1")]
    if method == "POST" and path == "/api/v1/auth/login":
        return 200, TOKENS, [(b"cache-control", b"no-store")]
    return 404, NOT_FOUND, []


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    # The flags `storefront serve` passes to uvicorn (see src/storefront/cli.py).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        proxy_headers=False,
        timeout_graceful_shutdown=20,
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
