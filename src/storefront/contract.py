"""Every HTTP operation's stable operationId and the contract facts its OpenAPI entry declares.

The operationId is what generated clients name their functions after
(`auth_login`, `products_list`): `<resource>_<action>`, lower snake case, and
never renamed once published. A route missing here gets `<tag>_<function>` and
fails tests/test_openapi.py until it has a row.

The other columns (kit/openapi.py's `Operation`) are what the routes do with
headers (kit/etag.py, the routers); kit/openapi.py declares them. Paging
headers follow from the `limit` parameter and 429 from the general limit over
`/api/v1`, so neither needs a column.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute

from storefront.kit.openapi import Contract, Operation, problems
from storefront.kit.routing import API_PREFIX, JSONRoute

NO_STORE = "no-store"
IMAGE_CACHE_CONTROL = "public, max-age=3600"

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/api/v1/auth/register"): Operation("auth_register", public=True, location=True),
    ("POST", "/api/v1/auth/token"): Operation("auth_token", public=True, cache_control=NO_STORE),
    ("POST", "/api/v1/auth/login"): Operation("auth_login", public=True, cache_control=NO_STORE),
    ("POST", "/api/v1/auth/refresh"): Operation("auth_refresh", public=True, cache_control=NO_STORE),
    ("POST", "/api/v1/auth/logout"): Operation("auth_logout"),
    ("POST", "/api/v1/auth/logout-all"): Operation("auth_logout_all"),
    ("POST", "/api/v1/auth/password"): Operation("auth_password_change"),
    ("POST", "/api/v1/auth/password-reset"): Operation("auth_password_reset", public=True),
    ("POST", "/api/v1/auth/password-reset/confirm"): Operation("auth_password_reset_confirm", public=True),
    ("POST", "/api/v1/auth/api-keys"): Operation("auth_api_keys_create", cache_control=NO_STORE),
    ("GET", "/api/v1/auth/api-keys"): Operation("auth_api_keys_list"),
    ("DELETE", "/api/v1/auth/api-keys/{key_id}"): Operation("auth_api_keys_revoke"),
    ("GET", "/api/v1/users/me"): Operation("users_me_read", etag=True),
    ("PATCH", "/api/v1/users/me"): Operation("users_me_update", etag=True, if_match=True),
    ("GET", "/api/v1/users"): Operation("users_list"),
    ("POST", "/api/v1/users"): Operation("users_create", etag=True, location=True),
    ("GET", "/api/v1/users/export.csv"): Operation("users_export"),
    ("GET", "/api/v1/users/{user_id}"): Operation("users_read", etag=True, if_none_match=True),
    ("PATCH", "/api/v1/users/{user_id}"): Operation("users_update", etag=True, if_match=True),
    ("DELETE", "/api/v1/users/{user_id}"): Operation("users_delete", if_match=True),
    ("GET", "/api/v1/products"): Operation("products_list", public=True),
    ("POST", "/api/v1/products"): Operation("products_create", etag=True, location=True),
    ("GET", "/api/v1/products/export"): Operation("products_export"),
    ("GET", "/api/v1/products/{product_id}"): Operation("products_read", public=True, etag=True, if_none_match=True),
    ("PUT", "/api/v1/products/{product_id}"): Operation("products_replace", etag=True, if_match=True),
    ("PATCH", "/api/v1/products/{product_id}"): Operation("products_update", etag=True, if_match=True),
    ("DELETE", "/api/v1/products/{product_id}"): Operation("products_archive", if_match=True),
    ("POST", "/api/v1/products/{product_id}/stock"): Operation("products_stock_adjust", etag=True),
    ("PUT", "/api/v1/products/{product_id}/image"): Operation("products_image_replace", etag=True),
    ("GET", "/api/v1/products/{product_id}/image"): Operation(
        "products_image_read", public=True, etag=True, if_none_match=True, cache_control=IMAGE_CACHE_CONTROL
    ),
    ("GET", "/api/v1/products/{product_id}/variants"): Operation("products_variants_list", public=True),
    ("POST", "/api/v1/products/{product_id}/variants"): Operation("products_variants_create", etag=True, location=True),
    ("GET", "/api/v1/products/{product_id}/variants/{variant_id}"): Operation(
        "products_variants_read", public=True, etag=True, if_none_match=True
    ),
    ("PATCH", "/api/v1/products/{product_id}/variants/{variant_id}"): Operation(
        "products_variants_update", etag=True, if_match=True
    ),
    ("DELETE", "/api/v1/products/{product_id}/variants/{variant_id}"): Operation(
        "products_variants_archive", if_match=True
    ),
    ("POST", "/api/v1/products/{product_id}/variants/{variant_id}/stock"): Operation(
        "products_variants_stock_adjust", etag=True
    ),
    ("PUT", "/api/v1/products/{product_id}/variants/{variant_id}/image"): Operation(
        "products_variants_image_replace", etag=True
    ),
    ("GET", "/api/v1/products/{product_id}/variants/{variant_id}/image"): Operation(
        "products_variants_image_read", public=True, etag=True, if_none_match=True, cache_control=IMAGE_CACHE_CONTROL
    ),
    ("PUT", "/api/v1/products/{product_id}/options"): Operation("products_options_replace", etag=True, if_match=True),
    ("POST", "/api/v1/orders"): Operation("orders_create", etag=True, location=True, idempotent=True),
    ("GET", "/api/v1/orders"): Operation("orders_list"),
    ("GET", "/api/v1/orders/export"): Operation("orders_export"),
    ("GET", "/api/v1/orders/{order_id}"): Operation("orders_read", etag=True, if_none_match=True),
    ("GET", "/api/v1/orders/{order_id}/payment"): Operation("orders_payment_read", cache_control=NO_STORE),
    ("POST", "/api/v1/orders/{order_id}/cancel"): Operation("orders_cancel", etag=True, if_match=True),
    ("POST", "/api/v1/orders/{order_id}/status"): Operation("orders_status_change", etag=True, if_match=True),
    ("POST", "/api/v1/orders/{order_id}/refunds"): Operation("orders_refunds_create", idempotent=True),
    ("GET", "/api/v1/orders/{order_id}/refunds"): Operation("orders_refunds_list"),
    ("POST", "/api/v1/payments/stripe/webhook"): Operation("payments_stripe_webhook", public=True),
    ("POST", "/api/v1/carts"): Operation("carts_create", public=True, location=True, cache_control=NO_STORE),
    ("GET", "/api/v1/carts/{cart_id}"): Operation("carts_read", public=True, cache_control=NO_STORE),
    ("PUT", "/api/v1/carts/{cart_id}/items/{product_id}"): Operation(
        "carts_items_set", public=True, cache_control=NO_STORE
    ),
    ("DELETE", "/api/v1/carts/{cart_id}/items/{product_id}"): Operation(
        "carts_items_remove", public=True, cache_control=NO_STORE
    ),
    ("PUT", "/api/v1/carts/{cart_id}/discount"): Operation("carts_discount_set", public=True, cache_control=NO_STORE),
    ("DELETE", "/api/v1/carts/{cart_id}/discount"): Operation(
        "carts_discount_remove", public=True, cache_control=NO_STORE
    ),
    ("PUT", "/api/v1/carts/{cart_id}/shipping"): Operation("carts_shipping_set", public=True, cache_control=NO_STORE),
    ("POST", "/api/v1/carts/{cart_id}/checkout"): Operation(
        "carts_checkout", etag=True, location=True, idempotent=True, cache_control=NO_STORE
    ),
    ("GET", "/api/v1/discounts"): Operation("discounts_list"),
    ("POST", "/api/v1/discounts"): Operation("discounts_create", etag=True, location=True),
    ("GET", "/api/v1/discounts/{discount_id}"): Operation("discounts_read", etag=True, if_none_match=True),
    ("PATCH", "/api/v1/discounts/{discount_id}"): Operation("discounts_update", etag=True, if_match=True),
    ("DELETE", "/api/v1/discounts/{discount_id}"): Operation("discounts_delete", if_match=True),
    ("GET", "/api/v1/shipping-methods"): Operation("shipping_methods_list"),
    ("POST", "/api/v1/shipping-methods"): Operation("shipping_methods_create", etag=True, location=True),
    ("GET", "/api/v1/shipping-methods/{shipping_method_id}"): Operation(
        "shipping_methods_read", etag=True, if_none_match=True
    ),
    ("PATCH", "/api/v1/shipping-methods/{shipping_method_id}"): Operation(
        "shipping_methods_update", etag=True, if_match=True
    ),
    ("DELETE", "/api/v1/shipping-methods/{shipping_method_id}"): Operation("shipping_methods_delete", if_match=True),
    ("GET", "/api/v1/tax-rates"): Operation("tax_rates_list"),
    ("POST", "/api/v1/tax-rates"): Operation("tax_rates_create", etag=True, location=True),
    ("GET", "/api/v1/tax-rates/{tax_rate_id}"): Operation("tax_rates_read", etag=True, if_none_match=True),
    ("PATCH", "/api/v1/tax-rates/{tax_rate_id}"): Operation("tax_rates_update", etag=True, if_match=True),
    ("DELETE", "/api/v1/tax-rates/{tax_rate_id}"): Operation("tax_rates_delete", if_match=True),
    ("POST", "/api/v1/notifications/email"): Operation("notifications_email_send", location=True),
    ("GET", "/api/v1/notifications"): Operation("notifications_list"),
    ("GET", "/api/v1/notifications/{email_id}"): Operation("notifications_read"),
    ("POST", "/api/v1/events/ticket"): Operation("events_ticket_create"),
    # The stream reads its credentials itself (events/stream.py): a bearer header or a ticket.
    ("GET", "/api/v1/events"): Operation(
        "events_stream", security=("OAuth2PasswordBearer", "HTTPBearer", "StreamTicket")
    ),
    ("GET", "/health"): Operation("ops_health", public=True),
    ("GET", "/ready"): Operation("ops_ready", public=True),
    ("GET", "/metrics"): Operation("ops_metrics", public=True),
    ("GET", "/api/v1/webhooks"): Operation("webhooks_list"),
    ("POST", "/api/v1/webhooks"): Operation("webhooks_create", location=True, cache_control=NO_STORE),
    ("GET", "/api/v1/webhooks/{webhook_id}"): Operation("webhooks_read"),
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): Operation("webhooks_update"),
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): Operation("webhooks_delete"),
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): Operation(
        "webhooks_rotate_secret", cache_control=NO_STORE
    ),
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): Operation("webhooks_test"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): Operation("webhooks_deliveries_list"),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"): Operation("webhooks_deliveries_read"),
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/retry"): Operation("webhooks_deliveries_retry"),
    ("GET", "/api/v1/audit-log"): Operation("audit_log_list"),
}

# Security schemes beside the ones FastAPI derives from the dependencies.
# `HTTPBearer` names the same `Authorization: Bearer` header as the OAuth2
# password flow (which Swagger's Authorize button needs): tools that do not
# read OAuth2 flows (schemathesis, some generators) still know where it goes.
JWT_DESCRIPTION = (
    "An access token (a JWT) from `POST /api/v1/auth/token` or `/login`, valid 15 minutes by default; "
    "`POST /api/v1/auth/refresh` trades the refresh token for a new pair. Tokens follow RFC8725: one "
    "pinned HMAC algorithm (a token's own `alg` is never trusted), `exp`, `iat`, `jti` and a `typ` "
    "claim required, and the login session checked on every request."
)
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": JWT_DESCRIPTION},
    "StreamTicket": {
        "type": "apiKey",
        "in": "query",
        "name": "ticket",
        "description": "A single-use ticket from `POST /api/v1/events/ticket`, valid 60 seconds: "
        "lets a browser open a stream without putting a token in a URL.",
    },
}
SCHEME_ALIASES = {"OAuth2PasswordBearer": "HTTPBearer"}


def operation_id(route: APIRoute) -> str:
    """FastAPI's `generate_unique_id_function`: the table's id, or `<tag>_<function>`."""
    for method in sorted(route.methods or ()):
        if (found := OPERATIONS.get((method, route.path_format))) is not None:
            return found.id
    tag = str(route.tags[0]) if route.tags else "api"
    return f"{tag}_{route.name}".lower()


def api_router(prefix: str, *, responses: dict[int | str, dict[str, Any]] | None = None, **kwargs: Any) -> APIRouter:
    """A domain router under `/api/v1`: JSON endpoints refuse other bodies (415), ids from the table.

    Every operation may answer 500 (a problem, never a traceback).

    The full prefix is given here, not at inclusion, so each route's `path` is
    its whole template (what logs and metrics label requests by), and the
    routes are complete as built: `kit.routing.add_routes` puts them on an app
    unchanged.
    """
    return APIRouter(
        prefix=API_PREFIX + prefix,
        route_class=JSONRoute,
        responses={**problems(500, 415), **(responses or {})},
        generate_unique_id_function=operation_id,
        **kwargs,
    )


def plain_router(**kwargs: Any) -> APIRouter:
    """A router outside `/api/v1` (probes, WebSockets), ids from the table."""
    return APIRouter(route_class=JSONRoute, responses=problems(500), generate_unique_id_function=operation_id, **kwargs)


CONTRACT = Contract(
    operations={operation.id: operation for operation in OPERATIONS.values()},
    security_schemes={"OAuth2PasswordBearer": {"description": JWT_DESCRIPTION}, **SECURITY_SCHEMES},
    scheme_aliases=SCHEME_ALIASES,
)

TAGS = [
    {"name": "auth", "description": "Accounts, logging in (tokens and sessions), passwords and API keys."},
    {"name": "users", "description": "One's own account; every account for admins."},
    {
        "name": "catalog",
        "description": "Products, their options and variants, stock and images: public to read, staff to change.",
    },
    {"name": "orders", "description": "Orders that take stock all or nothing, and their lifecycle."},
    {"name": "carts", "description": "Baskets held by a secret token, priced live, checked out into orders."},
    {
        "name": "rules",
        "description": "What checkout applies, kept by staff: discount codes, shipping methods, tax rates by country.",
    },
    {"name": "notifications", "description": "Durable email: queued in the change's transaction, sent by the worker."},
    {"name": "events", "description": "Live events: Server-Sent Events here, WebSockets as the API description says."},
    {"name": "webhooks", "description": "Signed deliveries of events to other systems' endpoints, for admins."},
    {"name": "audit", "description": "Who among staff and admins changed what, for admins."},
    {"name": "operations", "description": "Liveness, readiness and metrics, for operators."},
]
