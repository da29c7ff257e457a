"""A customer's first order, through the client openapi-python-client generated (`make contract`).

    python client_flow.py http://127.0.0.1:8000     # with the generated `storefront_client` importable

Register, log in, list products, order one with an `Idempotency-Key`, send the
same order again (the first answer comes back, nothing new is made), and read
the order back (then 304 with its ETag). Each step is checked; the exit status
is 0 only when all pass. The module names used here are the operationIds: if one
changes, this stops importing.

Public operations take a plain `Client`: the generator types every operation that
declares security, the anonymous `{}` alternative included, as needing an
`AuthenticatedClient` (openapi-python-client issue #1372); at run time either works.
"""

from __future__ import annotations

import secrets
import sys
from http import HTTPStatus
from typing import Any

from storefront_client import AuthenticatedClient, Client
from storefront_client.api.auth import auth_login, auth_register
from storefront_client.api.catalog import products_list
from storefront_client.api.orders import orders_create, orders_read
from storefront_client.models import (
    LoginRequest,
    OrderCreate,
    OrderLineCreate,
    OrderRead,
    ProductRead,
    TokenPair,
    UserRead,
    UserRegister,
)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"client flow: FAILED at {what}")
    print(f"  ok  {what}")


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    suffix = secrets.token_hex(4)
    password = f"flow-{secrets.token_urlsafe(12)}"

    registered = auth_register.sync_detailed(
        client=anonymous,
        body=UserRegister(email=f"flow-{suffix}@example.com", username=f"flow_{suffix}", password=password),
    )
    user = registered.parsed
    check(registered.status_code == HTTPStatus.CREATED and isinstance(user, UserRead), "register: 201 and a user")
    assert isinstance(user, UserRead)
    check(registered.headers["location"] == f"/api/v1/users/{user.id}", "register: Location names the user")

    pair = auth_login.sync(
        client=anonymous,
        body=LoginRequest(username=user.username, password=password),
    )
    check(isinstance(pair, TokenPair) and pair.token_type == "bearer", "log in: a bearer token pair")
    assert isinstance(pair, TokenPair)
    customer = AuthenticatedClient(base_url=base_url, token=pair.access_token, raise_on_unexpected_status=True)

    listed = products_list.sync_detailed(client=anonymous, in_stock=True, limit=5, sort="-stock")
    products = listed.parsed
    check(isinstance(products, list) and len(products) > 0, "list products: in-stock products")
    assert isinstance(products, list)
    check(all(isinstance(product, ProductRead) for product in products), "list products: typed as ProductRead")
    check(int(listed.headers["x-total-count"]) >= len(products), "list products: X-Total-Count")
    product = products[0]
    variant = next(variant for variant in product.variants if variant.in_stock)  # what a customer buys

    key = f"flow-{suffix}"
    body = OrderCreate(items=[OrderLineCreate(variant_id=variant.id, quantity=1)])
    placed = orders_create.sync_detailed(client=customer, body=body, idempotency_key=key)
    order = placed.parsed
    check(placed.status_code == HTTPStatus.CREATED and isinstance(order, OrderRead), "order: 201 and an order")
    assert isinstance(order, OrderRead)
    line = order.items[0]
    check(line.product_id == product.id and line.variant_id == variant.id, "order: its line names the variant")
    check(order.total == variant.price, "order: its total")

    again = orders_create.sync_detailed(client=customer, body=body, idempotency_key=key)
    replayed: Any = again.parsed
    check(again.headers.get("idempotent-replayed") == "true", "order again, same key: Idempotent-Replayed")
    check(isinstance(replayed, OrderRead) and replayed.id == order.id, "order again, same key: the same order")

    read = orders_read.sync_detailed(order.id, client=customer)
    check(read.status_code == HTTPStatus.OK and isinstance(read.parsed, OrderRead), "read the order back")
    assert isinstance(read.parsed, OrderRead)
    check(read.parsed.id == order.id and read.parsed.status.value == "pending", "read the order back: pending")
    cached = orders_read.sync_detailed(order.id, client=customer, if_none_match=read.headers["etag"])
    check(cached.status_code == HTTPStatus.NOT_MODIFIED, "read it with its ETag: 304")
    print("client flow: passed")


if __name__ == "__main__":
    main(sys.argv[1])
