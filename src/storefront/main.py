"""create_app(): wiring only — settings, middleware, routers and handlers."""

from __future__ import annotations

from fastapi import FastAPI

from storefront import __version__
from storefront.auth.router import router as auth_router
from storefront.catalog.router import router as catalog_router
from storefront.config import Settings, get_settings
from storefront.db import Database
from storefront.errors import install_error_handlers
from storefront.events.router import router as events_router
from storefront.events.router import ws_router
from storefront.kit.openapi import install_openapi, problems
from storefront.kit.storage import storage_from_settings
from storefront.lifespan import lifespan
from storefront.log import configure_logging
from storefront.middleware import BodyLimitMiddleware, RequestContextMiddleware
from storefront.notifications.router import router as notifications_router
from storefront.ops.docs import mount_docs
from storefront.ops.router import router as ops_router
from storefront.orders.router import router as orders_router
from storefront.users.router import router as users_router

DESCRIPTION = """A commerce API: catalog and inventory, customers and staff with roles,
orders that never oversell, durable email and live order events.

Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code`.
Log in with **Authorize** (the OAuth2 password form) to try the protected operations."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    database = Database(settings)

    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.show_docs else None,
        responses=problems(500),
    )
    app.state.settings = settings
    app.state.database = database
    app.state.storage = storage_from_settings(settings)

    for router in (auth_router, users_router, catalog_router, orders_router, notifications_router, events_router):
        app.include_router(router, responses=problems(415))
    app.include_router(ops_router)
    app.include_router(ws_router)
    if settings.show_docs:
        mount_docs(app)

    install_error_handlers(app)
    install_openapi(app)
    # Outermost last: the request context wraps everything, errors included.
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, upload_bytes=settings.max_upload_bytes
    )
    app.add_middleware(RequestContextMiddleware)
    return app
