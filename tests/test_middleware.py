"""Request id, Server-Timing and the one access-log line per request."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from storefront.config import Settings
from storefront.database import Database
from storefront.main import create_app
from tests.factories import PASSWORD, Factory

SERVER_TIMING = re.compile(r"^app;dur=\d+(\.\d+)?$")


@pytest.mark.parametrize("path", ["/health", "/api/v1/products", "/api/v1/products/999", "/nope"])
async def test_every_response_has_request_id_and_server_timing(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert SERVER_TIMING.match(response.headers["server-timing"])
    if response.status_code >= 400:
        assert response.json()["request_id"] == request_id


async def test_request_ids_are_unique(client: AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("sent", ["abc-123", "req.1:2_3", "a" * 128, "3f2c9a0e-5b7d-4c1a-8e6f-0b2d4a6c8e0f"])
async def test_sane_client_request_id_is_kept(client: AsyncClient, sent: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent

    error = await client.get("/api/v1/products/999", headers={"X-Request-ID": sent})
    assert error.status_code == 404
    assert error.headers["x-request-id"] == sent
    assert error.json()["request_id"] == sent


@pytest.mark.parametrize(
    "sent",
    ["a" * 300, "a" * 129, "has spaces", "tab\there", "", "<script>", "ünïcode", "a,b", "line\\nbreak"],
)
async def test_insane_client_request_id_is_replaced(client: AsyncClient, sent: str) -> None:
    response = await client.get("/api/v1/products/999", headers=[(b"x-request-id", sent.encode())])
    assert response.status_code == 404
    request_id = response.headers["x-request-id"]
    assert request_id != sent
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert response.json()["request_id"] == request_id


async def test_request_id_with_newline_is_replaced(settings: Settings, database: Database) -> None:
    """httpx refuses to send a raw newline in a header, so the ASGI scope gets one directly."""
    app = create_app(settings)
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        messages.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"x-request-id", b"abc\r\nSet-Cookie: x=1")],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "state": {},
    }
    await app(scope, receive, send)
    start = messages[0]
    assert start["status"] == 200
    headers = dict(start["headers"])
    assert re.fullmatch(rb"[0-9a-f]{32}", headers[b"x-request-id"])
    assert b"set-cookie" not in headers


@pytest.fixture
async def logged_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    """An app logging every request as JSON at INFO, to stderr."""
    app = create_app(settings.model_copy(update={"log_level": "INFO", "log_format": "json"}))
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def access_lines(err: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


async def test_access_log_line_per_request(
    logged_client: AsyncClient, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    product = await factory.product()
    capsys.readouterr()
    response = await logged_client.get(f"/api/v1/products/{product.id}", headers={"X-Request-ID": "log-1"})
    assert response.status_code == 200

    [line] = access_lines(capsys.readouterr().err)
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/products/{product_id}"
    assert line["path"] == f"/api/v1/products/{product.id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int | float)
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "log-1"
    assert line["level"] == "info"
    assert "timestamp" in line


async def test_access_log_for_errors_and_unknown_routes(
    logged_client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await logged_client.get("/api/v1/products/999")
    await logged_client.get("/no/such/route")
    await logged_client.delete("/health")
    lines = access_lines(capsys.readouterr().err)
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/api/v1/products/{product_id}", 404),
        ("unmatched", 404),
        ("/health", 405),
    ]
    assert all(line["request_id"] for line in lines)


async def test_access_log_never_contains_credentials(
    logged_client: AsyncClient, factory: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = await factory.admin()
    capsys.readouterr()
    login = await logged_client.post("/api/v1/auth/login", json={"username": admin.user.username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    tokens = login.json()
    form = await logged_client.post("/api/v1/auth/token", data={"username": admin.user.email, "password": PASSWORD})
    assert form.status_code == 200, form.text
    failed = await logged_client.post("/api/v1/auth/login", json={"username": admin.user.username, "password": "nope"})
    assert failed.status_code == 401
    me = await logged_client.get("/api/v1/users/me", headers=admin.headers)
    assert me.status_code == 200
    bad = await logged_client.get("/api/v1/users/me", headers={"Authorization": "Bearer not-a-real-token-xyz"})
    assert bad.status_code == 401

    err = capsys.readouterr().err
    lines = access_lines(err)
    assert [line["status"] for line in lines] == [200, 200, 401, 200, 401]
    assert [line["route"] for line in lines][:2] == ["/api/v1/auth/login", "/api/v1/auth/token"]
    # Whatever else was logged (any line, not only access lines), no credential is in it.
    secrets = [PASSWORD, admin.token, tokens["access_token"], tokens.get("refresh_token"), "not-a-real-token-xyz"]
    for secret in filter(None, secrets):
        assert secret not in err
    assert "Bearer" not in err
    assert "authorization" not in err.lower()


async def test_access_log_records_500(
    settings: Settings, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"log_level": "INFO", "log_format": "json"}))

    async def fail() -> None:
        raise RuntimeError("unexpected")

    app.add_api_route("/fail/{item_id}", fail, methods=["GET"])
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            capsys.readouterr()
            response = await client.get("/fail/7", headers={"X-Request-ID": "fail-7"})
    assert response.status_code == 500
    err = capsys.readouterr().err
    [line] = access_lines(err)
    assert (line["route"], line["status"], line["request_id"]) == ("/fail/{item_id}", 500, "fail-7")
    errors = [json.loads(x) for x in err.splitlines() if x.startswith("{") and "unhandled_error" in x]
    assert errors[0]["request_id"] == "fail-7"
    assert "RuntimeError" in errors[0]["exception"]
