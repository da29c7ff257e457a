"""Every error is RFC 9457 problem+json with a stable code and the request id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient, Response

from storefront.catalog import service as catalog_service
from storefront.config import Settings
from storefront.database import Database
from storefront.main import create_app
from storefront.models import Product
from tests.factories import Factory

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}
LOGIN = "/api/v1/auth/login"


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_unknown_route_is_404_not_found(client: AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")
    body = assert_problem(response, 404, "not_found")
    assert body["title"] == "Not Found"


async def test_wrong_method_is_405_with_allow(client: AsyncClient) -> None:
    response = await client.delete("/health")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"

    response = await client.put("/api/v1/products")
    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"username": "ada", "password": "x"}'),
        ("application/x-www-form-urlencoded", b"username=ada&password=x"),
        (None, b'{"username": "ada", "password": "x"}'),
    ],
)
async def test_non_json_body_is_415(client: AsyncClient, content_type: str | None, content: bytes) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post(LOGIN, content=content, headers=headers)
    assert_problem(response, 415, "unsupported_media_type")


async def test_json_with_charset_and_suffix_is_accepted(client: AsyncClient) -> None:
    """`application/json; charset=utf-8` is JSON: it reaches validation (422), not 415."""
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.post(LOGIN, content=b"{}", headers={"Content-Type": content_type})
        assert_problem(response, 422, "validation_error")


async def test_415_on_protected_endpoint_creates_nothing(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    response = await client.post(
        "/api/v1/products",
        content=b"name=Cup&price=1",
        headers={**staff.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert (await client.get("/api/v1/products")).headers["x-total-count"] == "0"


async def test_body_over_limit_with_content_length_is_413(client: AsyncClient, settings: Settings) -> None:
    body = b'{"username": "' + b"a" * (settings.max_upload_bytes + 1) + b'", "password": "x"}'
    response = await client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "payload_too_large")


async def test_body_between_limit_and_upload_ceiling_is_413(client: AsyncClient, settings: Settings) -> None:
    """A declared length under the upload ceiling passes the header check; the stream count still stops it."""
    body = b'{"username": "' + b"a" * (settings.max_body_bytes + 1) + b'", "password": "x"}'
    assert settings.max_body_bytes < len(body) < settings.max_upload_bytes
    response = await client.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
    assert_problem(response, 413, "payload_too_large")


async def test_streamed_body_over_limit_without_content_length_is_413(
    client: AsyncClient, settings: Settings, factory: Factory
) -> None:
    """A chunked body has no Content-Length: it is counted while it streams, and reading stops at the limit."""
    staff = await factory.staff()
    chunk = b"a" * 64 * 1024
    chunks_total = settings.max_body_bytes // len(chunk) + 4
    produced = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal produced
        yield b'{"name": "Cup", "price": "1.00", "description": "'
        for _ in range(chunks_total):
            produced += 1
            yield chunk
        yield b'"}'

    response = await client.post(
        "/api/v1/products",
        content=stream(),
        headers={**staff.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload_too_large")
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    # The app stopped reading once it was over the limit, not at the end of the stream.
    assert produced < chunks_total
    assert (await client.get("/api/v1/products")).headers["x-total-count"] == "0"


async def test_streamed_body_under_limit_is_accepted(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"name": "Cup", '
        yield b'"price": "1.00"}'

    response = await client.post(
        "/api/v1/products", content=stream(), headers={**staff.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Cup"


async def test_validation_error_is_422_with_errors(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    response = await client.post(
        "/api/v1/products",
        json={"name": "", "price": "-1", "role": "admin"},
        headers=staff.headers,
    )
    body = assert_problem(response, 422, "validation_error")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert set(error) == {"loc", "msg", "type"}
        assert isinstance(error["loc"], list)
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    locations = {tuple(error["loc"]) for error in errors}
    assert ("body", "name") in locations
    assert ("body", "price") in locations
    assert ("body", "role") in locations  # unknown fields are refused (extra="forbid")
    assert {error["type"] for error in errors} >= {"extra_forbidden"}


async def test_a_body_of_80000_unknown_keys_gets_a_short_422(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    body = {"x" * 5000: 1} | {f"k{n}": 1 for n in range(80_000)}
    content = json.dumps(body).encode()
    assert len(content) < 1024 * 1024

    response = await client.post(
        "/api/v1/products", content=content, headers={**staff.headers, "Content-Type": "application/json"}
    )

    problem = assert_problem(response, 422, "validation_error")
    assert len(response.content) < 20_000
    assert len(problem["errors"]) == 50
    assert problem["error_count"] > 80_000
    assert str(problem["error_count"]) in problem["detail"]
    assert ["body", "x" * 100 + "…"] in [error["loc"] for error in problem["errors"]]


async def test_malformed_json_is_422(client: AsyncClient) -> None:
    response = await client.post(LOGIN, content=b'{"username": ', headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["type"] == "json_invalid"


async def test_query_validation_error_is_422(client: AsyncClient) -> None:
    response = await client.get("/api/v1/products", params={"limit": 0})
    body = assert_problem(response, 422, "validation_error")
    assert ["query", "limit"] in [error["loc"] for error in body["errors"]]


SECRET_MARK = "s3cr3t-in-the-exception-message"


@pytest.fixture
async def boom_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    """An app with a test-only route that fails in an unexpected way."""
    app = create_app(settings)

    async def boom() -> None:
        password = SECRET_MARK  # a local that a traceback renderer could print
        raise RuntimeError(f"SELECT * FROM users WHERE password_hash = '{len(password)}'")  # noqa: S608

    app.add_api_route("/boom", boom, methods=["GET"])
    async with LifespanManager(app) as manager:
        transport = ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def assert_opaque_500(response: Response, *secrets: str) -> dict[str, Any]:
    body = assert_problem(response, 500, "internal_error")
    text = response.text
    for leak in ("Traceback", 'File "', "SELECT", "RuntimeError", SECRET_MARK, *secrets):
        assert leak not in text
    assert body["title"] == "Internal Server Error"
    return body


async def test_unexpected_error_is_opaque_500(boom_client: AsyncClient) -> None:
    response = await boom_client.get("/boom", headers={"X-Request-ID": "boom-1"})
    body = assert_opaque_500(response)
    assert body["request_id"] == "boom-1"
    assert response.headers["x-request-id"] == "boom-1"
    assert response.headers["server-timing"].startswith("app;dur=")


async def test_unexpected_error_does_not_log_locals(
    boom_client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error log has the traceback, but never the values of local variables (passwords, tokens)."""
    capsys.readouterr()
    response = await boom_client.get("/boom")
    assert response.status_code == 500
    err = capsys.readouterr().err
    assert "unhandled_error" in err
    assert "RuntimeError" in err  # the traceback is logged...
    assert SECRET_MARK not in err  # ...but not the values of its local variables


async def test_failing_service_is_opaque_500(
    client: AsyncClient, factory: Factory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service that fails unexpectedly (here mid-write) gives a 500 and the write is rolled back."""
    staff = await factory.staff()

    async def broken_create(session: Any, data: Any) -> Product:
        session.add(Product(**data.model_dump(), archived=False))
        await session.flush()
        raise RuntimeError(f"connection to {settings.database_url} failed with {settings.secret_key}")

    monkeypatch.setattr(catalog_service, "create", broken_create)
    response = await client.post("/api/v1/products", json={"name": "Cup", "price": "2.00"}, headers=staff.headers)
    assert_opaque_500(response, settings.secret_key, settings.database_url)
    assert json.loads(response.text)["request_id"] == response.headers["x-request-id"]
    monkeypatch.undo()
    assert (await client.get("/api/v1/products")).headers["x-total-count"] == "0"


async def test_body_that_is_not_utf8_is_422(client: AsyncClient) -> None:
    response = await client.post(LOGIN, content=b"{\xff}", headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"] == [
        {"loc": ["body"], "msg": "JSON decode error: the body is not UTF-8", "type": "json_invalid"}
    ]


async def test_nul_character_in_a_body_is_422_on_every_database(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    created = await client.post("/api/v1/products", json={"name": "a\x00b", "price": "1.00"}, headers=staff.headers)
    body = assert_problem(created, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", "name"]
    assert (await client.get("/api/v1/products")).headers["x-total-count"] == "0"


@pytest.mark.postgres_only
async def test_nul_character_in_a_query_is_422_not_500(client: AsyncClient, factory: Factory) -> None:
    """PostgreSQL cannot store or compare NUL in text: that is bad input (422)."""
    searched = await client.get("/api/v1/products", params={"q": "a\x00b"})
    assert_problem(searched, 422, "invalid_text")
    assert (await client.get("/api/v1/products")).headers["x-total-count"] == "0"
