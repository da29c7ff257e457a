"""Swagger UI and ReDoc work offline: every asset comes from this app."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from storefront.config import Environment, Settings
from storefront.main import create_app

ASSET_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
PRODUCTION_SECRET = "Hn5-wP8_rT2kQ7zX4mL9vB1cJ6dF3gS0aY"  # random-looking


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_own_assets(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", html), "the page must load nothing from the internet"
    assert "cdn" not in html.lower()
    assert "fonts.googleapis" not in html
    refs = ASSET_REF.findall(html)
    assert refs
    assert all(ref.startswith("/static/") or ref == "/favicon.ico" for ref in refs), refs
    assert "/openapi.json" in html
    for ref in refs:
        asset = await client.get(ref)
        assert asset.status_code == 200, ref
        assert asset.content


async def test_redoc_loads_no_logo_from_its_cdn(client: AsyncClient) -> None:
    """ReDoc's bundle as served asks nothing of cdn.redoc.ly (which the CSP refuses)."""
    html = (await client.get("/redoc")).text
    [bundle_url] = [ref for ref in ASSET_REF.findall(html) if ref.endswith(".js")]
    bundle = await client.get(bundle_url)
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].split(";")[0] == "text/javascript"
    assert len(bundle.content) > 500_000
    assert b"cdn.redoc.ly" not in bundle.content
    assert b"cdn." not in bundle.content.lower()


@pytest.mark.parametrize("docs_enabled", [True, False])
async def test_favicon_is_served(settings: Settings, docs_enabled: bool) -> None:
    async with app_client(settings.model_copy(update={"docs_enabled": docs_enabled})) as client:
        response = await client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/x-icon"
    assert response.content.startswith(b"\x00\x00\x01\x00")  # an ICO file
    assert "max-age" in response.headers["cache-control"]


async def test_swagger_ui_has_no_external_validator(client: AsyncClient) -> None:
    html = (await client.get("/docs")).text
    assert '"validatorUrl": null' in html


@pytest.mark.parametrize(
    ("asset", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
        ("favicon.png", "image/png"),
    ],
)
async def test_docs_assets_are_served(client: AsyncClient, asset: str, content_type: str) -> None:
    response = await client.get(f"/static/docs/{asset}")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == content_type
    assert len(response.content) > 1000
    assert response.headers["x-request-id"]


async def test_unknown_docs_asset_is_problem_404(client: AsyncClient) -> None:
    response = await client.get("/static/docs/nope.js")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


@contextlib.asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


DOC_PATHS = ["/docs", "/redoc", "/openapi.json", "/static/docs/swagger-ui-bundle.js"]


async def test_docs_off_in_production(settings: Settings) -> None:
    production = settings.model_copy(update={"app_env": Environment.production, "secret_key": PRODUCTION_SECRET})
    async with app_client(production) as client:
        for path in DOC_PATHS:
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"] == "application/problem+json"
        assert (await client.get("/health")).status_code == 200


async def test_docs_on_in_production_when_enabled(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", PRODUCTION_SECRET)
    monkeypatch.setenv("DOCS_ENABLED", "true")
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    production = Settings(_env_file=None)
    assert production.app_env is Environment.production
    async with app_client(production) as client:
        for path in DOC_PATHS:
            assert (await client.get(path)).status_code == 200, path
        assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.")


async def test_docs_can_be_turned_off_in_development(settings: Settings) -> None:
    async with app_client(settings.model_copy(update={"docs_enabled": False})) as client:
        for path in DOC_PATHS:
            assert (await client.get(path)).status_code == 404, path
