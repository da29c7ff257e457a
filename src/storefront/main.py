"""create_app(): wiring only — settings, middleware, routers and handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from storefront import __version__
from storefront.auth.router import router as auth_router
from storefront.catalog.router import router as catalog_router
from storefront.config import Settings, get_settings
from storefront.db import Database
from storefront.errors import install_error_handlers
from storefront.kit.openapi import problems
from storefront.log import configure_logging
from storefront.middleware import BodyLimitMiddleware, RequestContextMiddleware
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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await database.dispose()

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

    for router in (auth_router, users_router, catalog_router, orders_router):
        app.include_router(router, responses=problems(415))
    app.include_router(ops_router)
    if settings.show_docs:
        mount_docs(app)

    install_error_handlers(app)
    # Outermost last: the request context wraps everything, errors included.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, ceiling=settings.max_upload_bytes)
    app.add_middleware(RequestContextMiddleware)
    return app
