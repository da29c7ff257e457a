"""The OpenAPI document: valid, secured by the OAuth2 password flow, errors as problem+json."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from openapi_spec_validator import validate

from tests.factories import Factory

OPERATIONS = frozenset({"get", "put", "post", "delete", "patch"})


@pytest.fixture
async def document(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    ]


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert document["info"]["title"] == "Storefront"
    assert "problem" in document["info"]["description"]


def test_expected_paths_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/health", "/ready", "/api/v1/auth/token", "/api/v1/auth/login", "/api/v1/products/{product_id}"):
        assert path in paths
    for hidden in ("/docs", "/redoc", "/openapi.json"):
        assert hidden not in paths


def test_oauth2_password_security_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    oauth = [scheme for scheme in schemes.values() if scheme["type"] == "oauth2"]
    assert len(oauth) == 1
    [scheme] = oauth
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/v1/auth/token"
    name = next(key for key, value in schemes.items() if value is scheme)
    create = document["paths"]["/api/v1/products"]["post"]
    assert {name: []} in create["security"]
    assert {name: []} in document["paths"]["/api/v1/users/me"]["get"]["security"]
    assert "security" not in document["paths"]["/api/v1/auth/login"]["post"]


def test_token_endpoint_takes_the_oauth2_form(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/auth/token"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/x-www-form-urlencoded"]


def test_error_responses_are_problem_json(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail", "code", "request_id"}
    checked = 0
    for method, path, operation in operations(document):
        errors = {status: response for status, response in operation["responses"].items() if status >= "400"}
        assert "500" in errors, (method, path)
        for status, response in errors.items():
            if path == "/ready" and status == "503":
                continue  # the readiness body names the failing checks
            assert response["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }, (method, path, status)
            checked += 1
    assert checked > 20
    # FastAPI's own validation-error schema is gone: 422 is a problem too.
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_operations_document_their_errors(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/v1/products/{product_id}"]["patch"]["responses"]
    assert {"401", "403", "404", "412", "415", "422", "500"} <= set(responses)
    assert "415" not in document["paths"]["/api/v1/products"]["get"]["responses"]
    assert "415" not in document["paths"]["/health"]["get"]["responses"]
    assert "409" in document["paths"]["/api/v1/auth/register"]["post"]["responses"]


def test_json_request_bodies_have_examples(document: dict[str, Any]) -> None:
    missing = [
        (method, path)
        for method, path, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
        and "example" not in operation["requestBody"]["content"]["application/json"]
    ]
    assert not missing
    create = document["paths"]["/api/v1/products"]["post"]["requestBody"]["content"]["application/json"]
    assert create["example"]["name"] == "Espresso cup"
    assert create["example"]["price"] == "12.50"
    login = document["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"]
    assert set(login["example"]) >= {"username", "password"}
    schema = document["components"]["schemas"]["ProductCreate"]
    assert schema["properties"]["name"]["examples"] == ["Espresso cup"]


async def test_request_body_examples_are_accepted(
    client: AsyncClient, document: dict[str, Any], factory: Factory
) -> None:
    """The documented examples are real: sent as they are, the API takes them."""
    staff = await factory.staff()
    paths = document["paths"]
    product = paths["/api/v1/products"]["post"]["requestBody"]["content"]["application/json"]["example"]
    created = await client.post("/api/v1/products", json=product, headers=staff.headers)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == product["name"]

    stock = paths["/api/v1/products/{product_id}/stock"]["post"]["requestBody"]["content"]["application/json"]
    adjusted = await client.post(
        f"/api/v1/products/{created.json()['id']}/stock", json=stock["example"], headers=staff.headers
    )
    assert adjusted.status_code == 200, adjusted.text
    assert adjusted.json()["stock"] == product["stock"] + stock["example"]["delta"]


async def test_openapi_is_built_once(client: AsyncClient) -> None:
    first = (await client.get("/openapi.json")).json()
    second = (await client.get("/openapi.json")).json()
    assert first == second
