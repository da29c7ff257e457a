"""HTTP hardening: security headers, CORS from the allowlist, gzip."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from storefront.config import Settings
from storefront.main import create_app
from tests.factories import Factory
from tests.users.helpers import assert_problem


@pytest.fixture
async def configured(settings: Settings, database: object) -> AsyncIterator[AsyncClient]:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://shop.example.com"], "hsts": True}))
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_api_responses_carry_security_headers(client: AsyncClient) -> None:
    for response in (await client.get("/health"), await client.get("/nope")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert "Strict-Transport-Security" not in response.headers


async def test_pages_get_a_csp_that_allows_only_this_origin(client: AsyncClient) -> None:
    csp = (await client.get("/docs")).headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "http" not in csp


async def test_hsts_when_asked(configured: AsyncClient) -> None:
    response = await configured.get("/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


async def test_cors_allows_listed_origins_only(configured: AsyncClient) -> None:
    preflight = await configured.options(
        "/api/v1/products",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, Idempotency-Key",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert preflight.headers["Access-Control-Allow-Credentials"] == "true"

    simple = await configured.get("/api/v1/products", headers={"Origin": "https://shop.example.com"})
    assert simple.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "X-Total-Count" in simple.headers["Access-Control-Expose-Headers"]

    stranger = await configured.get("/api/v1/products", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in stranger.headers
    refused = await configured.options(
        "/api/v1/products", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    body = assert_problem(refused, 400, "cors_refused")
    assert "origin" in body["detail"]
    assert "Access-Control-Allow-Origin" not in refused.headers


async def test_private_answers_are_never_stored(client: AsyncClient, factory: Factory) -> None:
    customer = await factory.customer()
    private = [
        await client.get("/api/v1/users/me", headers=customer.headers),
        await client.get("/api/v1/orders", headers=customer.headers),
        await client.get("/api/v1/auth/api-keys", headers=customer.headers),
        await client.get("/api/v1/users/me"),  # a 401 too
        await client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password!"}),
    ]
    public = await client.get("/api/v1/products")

    for response in private:
        assert response.headers["Cache-Control"] == "no-store", response.request.url
    assert "no-store" not in public.headers.get("Cache-Control", "")


async def test_no_cors_headers_without_an_allowlist(client: AsyncClient) -> None:
    response = await client.get("/api/v1/products", headers={"Origin": "https://shop.example.com"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_large_responses_are_gzipped_small_ones_not(client: AsyncClient, factory: Factory) -> None:
    for n in range(20):
        await factory.product(name=f"Product with a long enough name {n}")
    big = await client.get("/api/v1/products", headers={"Accept-Encoding": "gzip"})
    assert big.headers["Content-Encoding"] == "gzip"
    assert len(big.json()) == 20  # httpx decoded it
    assert int(big.headers["Content-Length"]) < len(big.content) / 2  # sent compressed
    small = await client.get("/health", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
