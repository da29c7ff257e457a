"""create_app(): wiring only — settings, middleware, routers and handlers."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from storefront import __version__
from storefront.admin.views import mount_admin
from storefront.audit.router import router as audit_router
from storefront.auth.limits import DEFAULT as DEFAULT_LIMIT
from storefront.auth.limits import GeneralLimitMiddleware, create_rate_limiter
from storefront.auth.router import router as auth_router
from storefront.carts.router import router as carts_router
from storefront.catalog.fastpath import CachedProductReads
from storefront.catalog.router import router as catalog_router
from storefront.catalog.variant_router import router as variant_router
from storefront.config import Settings, get_settings
from storefront.context import AppContext
from storefront.contract import CONTRACT, TAGS, operation_id
from storefront.errors import install_error_handlers
from storefront.events.router import router as events_router
from storefront.events.router import ws_router
from storefront.kit.net import Resolver
from storefront.kit.openapi import install_openapi, problems
from storefront.kit.routing import add_routes, claim_literal_paths
from storefront.lifespan import lifespan
from storefront.log import configure_logging
from storefront.middleware import (
    BodyLimitMiddleware,
    ProblemCORSMiddleware,
    RequestContextMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostsMiddleware,
)
from storefront.notifications.router import router as notifications_router
from storefront.ops.docs import mount_docs
from storefront.ops.router import router as ops_router
from storefront.orders.payments_router import hooks as payment_hooks_router
from storefront.orders.payments_router import router as refunds_router
from storefront.orders.router import router as orders_router
from storefront.rules.router import discounts as discounts_router
from storefront.rules.router import shipping_methods as shipping_methods_router
from storefront.rules.router import tax_rates as tax_rates_router
from storefront.tracing import telemetry_config, tracer_provider
from storefront.users.router import router as users_router
from storefront.webhooks.router import router as webhooks_router

DOMAIN_ROUTERS = (
    auth_router,
    users_router,
    catalog_router,
    variant_router,
    orders_router,
    refunds_router,
    payment_hooks_router,
    carts_router,
    discounts_router,
    shipping_methods_router,
    tax_rates_router,
    notifications_router,
    webhooks_router,
    audit_router,
    events_router,
)
CORS_ALLOW_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-API-Key",
                      "X-Request-ID", "Last-Event-ID"]  # fmt: skip
CORS_EXPOSE_HEADERS = ["X-Request-ID", "X-Total-Count", "Link", "ETag", "Location", "Retry-After", "RateLimit",
                       "RateLimit-Policy", "Idempotent-Replayed", "Server-Timing"]  # fmt: skip
DESCRIPTION = """A commerce API: catalog and inventory, customers and staff with roles,
carts and checkout, payments and refunds, orders that never oversell, durable email,
live order events and signed webhooks (Standard Webhooks) for other systems.

Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
Log in with **Authorize** (the OAuth2 password form) to try the protected operations.
Operation ids (`products_list`, `orders_create`, ...) are stable: generated clients
are named after them.

## WebSockets

Not operations of this document (OpenAPI has no WebSockets), but part of the API:

- `WS /ws/echo`, anyone: each text message comes back as
  `{"echo": "<text>", "server_time": "<ISO 8601>"}`.
- `WS /ws/events`: the event stream of `GET /api/v1/events` (the same events and
  visibility), credentials in an `Authorization: Bearer` header or a single-use
  `?ticket=` from `POST /api/v1/events/ticket`. Each event is a text message, the JSON
  `{"id", "type", "created_at", "data"}`; `?since=<event id>` replays what was missed
  first; a client's `{"type": "ping"}` gets `{"type": "pong"}`. Close codes: 1008 bad
  credentials (or the session ended), 1013 too many open streams, 1001 server shutdown,
  1009 a message over 64 KiB, 1003 a binary message."""


def create_app(settings: Settings | None = None, *, resolver: Resolver | None = None) -> FastAPI:
    settings = settings or get_settings()
    provider = tracer_provider(settings)
    configure_logging(settings.log_level, settings.log_format, trace_ids=provider is not None)
    context = AppContext.create(settings, rate_limiter=create_rate_limiter(settings), resolver=resolver)

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        responses=problems(500),
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        telemetry=telemetry_config(provider),
    )
    app.state.context = context
    app.state.tracer_provider = provider

    # Each request is matched against the routes in this order: the probes, hit
    # every few seconds by every orchestrator and load balancer, come first
    # (their literal paths are no other route's).
    for router in (ops_router, *DOMAIN_ROUTERS, ws_router):
        add_routes(app, router)
    mount_admin(app, context)
    if settings.show_docs:
        mount_docs(app)

    claim_literal_paths(DOMAIN_ROUTERS)
    install_error_handlers(app)
    install_openapi(app, CONTRACT)
    # Outermost last: the request context wraps everything, errors included.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes)
    app.add_middleware(CachedProductReads, cache=context.product_cache)
    if context.rate_limiter.has(DEFAULT_LIMIT):
        # Outside the cached product reads: nothing answers before the limit is counted.
        app.add_middleware(GeneralLimitMiddleware, limiter=context.rate_limiter, settings=settings)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=600,
        )
    if settings.trusted_hosts:
        app.add_middleware(TrustedHostsMiddleware, hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.hsts)
    app.add_middleware(RequestContextMiddleware)
    return app
