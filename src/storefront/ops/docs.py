"""Swagger UI and ReDoc served from this app's own assets: they work offline."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
PREFIX = "/static/docs"
REDOC_JS = "/static/redoc/redoc.standalone.js"
FAVICON = "/favicon.ico"
# ReDoc's one request off the app: the Redocly logo in its sidebar, from its CDN,
# which the page's CSP refuses (a console error, and a request to a third party).
# An empty image fails to load, and ReDoc then shows no logo.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_LOGO = b"data:,"
ASSET_CACHE = {"Cache-Control": "public, max-age=86400"}


def redoc_bundle() -> bytes:
    bundle = (ASSETS / "redoc.standalone.js").read_bytes()
    if REDOC_LOGO not in bundle:
        raise RuntimeError("ReDoc's bundle no longer names its CDN logo: check ops/docs.py against it")
    return bundle.replace(REDOC_LOGO, NO_LOGO)


def mount_docs(app: FastAPI) -> None:
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    bundle = redoc_bundle()  # read once, at start: about 1 MB

    @app.get(REDOC_JS, include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(bundle, media_type="text/javascript", headers=ASSET_CACHE)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API docs",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            # No validator badge: it would fetch an image from validator.swagger.io.
            swagger_ui_parameters={"persistAuthorization": True, "validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API reference",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
