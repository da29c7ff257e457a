"""The OpenAPI document: valid, secured as the server enforces, errors as problem+json,
stable operation ids, request limits and response headers as the server has them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import AsyncClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from storefront import contract
from storefront.kit.schemas import WHITESPACE, InputModel
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
    # Logging in takes no credentials, and says so: only the anonymous alternative.
    assert document["paths"]["/api/v1/auth/login"]["post"]["security"] == [{}]


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


# --- operation ids ----------------------------------------------------------------------

OPERATION_ID = re.compile(r"^[a-z]+(_[a-z0-9]+)+$")


def test_operation_ids_are_clean_stable_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert all(OPERATION_ID.fullmatch(operation_id) for operation_id in ids), ids
    assert len(ids) == len(set(ids))
    # Every operation has its row in the table (a new route without one would get
    # a made-up `<tag>_<function>` id), and the table names nothing that is gone.
    assert {(method.upper(), path) for method, path, _ in operations(document)} == set(contract.OPERATIONS)
    by_path = {(method.upper(), path): operation["operationId"] for method, path, operation in operations(document)}
    assert by_path[("POST", "/api/v1/auth/login")] == "auth_login"
    assert by_path[("GET", "/api/v1/products")] == "products_list"
    assert by_path[("GET", "/api/v1/products/{product_id}")] == "products_read"
    assert by_path[("POST", "/api/v1/orders")] == "orders_create"
    assert by_path[("GET", "/api/v1/events")] == "events_stream"
    assert by_path[("GET", "/health")] == "ops_health"
    # Generated request-body names follow the ids, not the Python function names.
    assert "Body_auth_token" in document["components"]["schemas"]


# --- security -----------------------------------------------------------------------

PUBLIC_READS = [
    ("get", "/api/v1/products"),
    ("get", "/api/v1/products/{product_id}"),
    ("get", "/api/v1/products/{product_id}/image"),
    ("get", "/health"),
    ("get", "/ready"),
    ("get", "/metrics"),
]
CREDENTIALS: list[dict[str, list[str]]] = [{"OAuth2PasswordBearer": []}, {"HTTPBearer": []}, {"APIKeyHeader": []}]


def test_public_reads_declare_credentials_optional(document: dict[str, Any]) -> None:
    for method, path in PUBLIC_READS:
        assert {} in document["paths"][path][method]["security"], path
    for method, path in PUBLIC_READS[:3]:
        # Staff see archived products: a product read takes credentials when sent.
        security = document["paths"][path][method]["security"]
        assert all(requirement in security for requirement in CREDENTIALS), path
        assert "401" in document["paths"][path][method]["responses"], path  # a bad token is refused


def test_the_event_stream_declares_its_credentials(document: dict[str, Any]) -> None:
    stream = document["paths"]["/api/v1/events"]["get"]
    assert stream["security"] == [{"OAuth2PasswordBearer": []}, {"HTTPBearer": []}, {"StreamTicket": []}]
    ticket = document["components"]["securitySchemes"]["StreamTicket"]
    assert ticket == ticket | {"type": "apiKey", "in": "query", "name": "ticket"}
    bearer = document["components"]["securitySchemes"]["HTTPBearer"]
    assert bearer == bearer | {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    # WebSockets are not operations: the description documents them.
    description = document["info"]["description"]
    assert "/ws/events" in description
    assert "/ws/echo" in description
    assert "1008" in description


async def test_declared_security_is_what_the_server_enforces(client: AsyncClient, document: dict[str, Any]) -> None:
    """Anonymous, every operation without `{}` is 401; every one with it is not."""
    for method, path, operation in operations(document):
        url = re.sub(r"\{[^}]+\}", "1", path)
        response = await client.request(method, url)
        if {} in operation["security"] if "security" in operation else False:
            assert response.status_code != 401, (method, path)
        else:
            assert operation.get("security"), (method, path, "declares no credentials")
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"].startswith("Bearer")


# --- the event stream ------------------------------------------------------------------


def test_the_event_stream_is_documented_as_text(document: dict[str, Any]) -> None:
    ok = document["paths"]["/api/v1/events"]["get"]["responses"]["200"]
    assert ok["content"] == {"text/event-stream": {"schema": {"type": "string"}}}
    for part in ("id:", "event:", "data:", "Last-Event-ID"):
        assert part in ok["description"]
    assert "EventRead" not in json.dumps(ok)


# --- request schemas state the server's limits -------------------------------------------


def validator(document: dict[str, Any], schema: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}", "components": document["components"]})


def test_passwords_are_documented_as_the_policy_says(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for schema, field in [
        ("UserRegister", "password"),
        ("UserCreate", "password"),
        ("PasswordChange", "new_password"),
        ("PasswordResetConfirm", "new_password"),
        ("LoginRequest", "password"),
    ]:
        password = schemas[schema]["properties"][field]
        assert (password["minLength"], password["maxLength"]) == (12, 128), schema


def test_money_strings_have_the_pattern_the_server_checks(document: dict[str, Any]) -> None:
    price = document["components"]["schemas"]["ProductCreate"]["properties"]["price"]
    number, text = price["anyOf"]
    assert number == number | {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000, "multipleOf": 0.01}
    assert text["type"] == "string"
    assert text["maxLength"] == 16
    valid = validator(document, "ProductCreate")
    for good in ("12.50", "12.5", "1000000", "1000000.00", "0.01", 7, 12.5):
        assert valid.is_valid({"name": "Cup", "price": good}), good
    for bad in ("1e2", " 12.50", "12.505", "-1", "0", "0.00", "1000000.01", "1000001", ".5", "12,50", 12.345, 0):
        assert not valid.is_valid({"name": "Cup", "price": bad}), bad
    product_read = document["components"]["schemas"]["ProductRead"]["properties"]["price"]
    assert product_read["pattern"] == r"^-?\d+\.\d{2}$"


@pytest.mark.parametrize(("price", "status"), [("12.5", 201), (12.5, 201), ("1e2", 422), (" 12.50", 422), ("0", 422)])
async def test_the_server_takes_what_the_money_schema_says(
    client: AsyncClient, factory: Factory, price: Any, status: int
) -> None:
    staff = await factory.staff()
    response = await client.post("/api/v1/products", json={"name": "Cup", "price": price}, headers=staff.headers)
    assert response.status_code == status, response.text


def _strings(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        if schema.get("type") == "string":
            yield where, schema
        for key, value in schema.items():
            yield from _strings(value, f"{where}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _strings(value, f"{where}/{index}")


def test_every_request_string_has_a_max_length(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    inputs = {name: schema for name, schema in schemas.items() if schema.get("additionalProperties") is False}
    assert {"ProductCreate", "UserRegister", "LoginRequest", "OrderCreate", "EmailCreate"} <= inputs.keys()
    found = list(_strings(inputs, "schemas"))
    for method, path, operation in operations(document):
        found += _strings(operation.get("parameters", []), f"{method} {path}")
    found += _strings(schemas["Body_auth_token"], "Body_auth_token")
    unbounded = [where for where, schema in found if "maxLength" not in schema and "enum" not in schema]
    assert not unbounded
    assert len(found) > 40


# The fields kept exactly as sent (`Verbatim`): a secret is every character of it,
# so such text is not stripped and blank is not refused for being blank.
VERBATIM = frozenset({"password", "current_password", "new_password", "token", "refresh_token"})


def test_required_text_is_documented_as_not_blank(document: dict[str, Any]) -> None:
    """The server strips text and refuses what is then empty where a `minLength` is
    set: the document says so, and no whitespace-only string meets such a schema."""
    schemas = document["components"]["schemas"]
    inputs = {name: schema for name, schema in schemas.items() if schema.get("additionalProperties") is False}
    required_text = []
    for name, schema in inputs.items():
        for field, property_ in schema["properties"].items():
            for branch in [property_, *property_.get("anyOf", [])]:
                if branch.get("type") != "string" or {"format", "enum", "const"} & branch.keys():
                    continue
                where, pattern = f"{name}.{field}", branch["pattern"]
                if field in VERBATIM or branch.get("minLength", 0) < 1:
                    assert pattern != InputModel.SOME_TEXT_PATTERN, where
                    continue
                if pattern == InputModel.NO_NUL_PATTERN:
                    raise AssertionError(f"{where}: required text documented as if it could be blank")
                for char in WHITESPACE:
                    blank = char * max(branch["minLength"], 3)
                    assert not re.search(pattern, blank), (where, f"U+{ord(char):04X}")
                required_text.append(where)
    # Free text carries the pattern; fields with a pattern of their own (sku, username,
    # subject) refuse blank text by it.
    expected = {
        "ProductCreate.name",
        "ProductUpdate.category",
        "ApiKeyCreate.name",
        "Address.line1",
        "LoginRequest.username",
        "EmailCreate.subject",
        "UserRegister.username",
        "ProductCreate.sku",
    }
    assert expected <= set(required_text)
    assert schemas["ProductCreate"]["properties"]["name"]["pattern"] == InputModel.SOME_TEXT_PATTERN


def test_patch_fields_that_refuse_null_are_not_nullable(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for schema, fields in [
        ("ProductUpdate", ("name", "price", "stock")),
        ("UserSelfUpdate", ("email", "username")),
        ("UserAdminUpdate", ("email", "username", "role", "is_active")),
    ]:
        for field in fields:
            assert "null" not in json.dumps(schemas[schema]["properties"][field]), (schema, field)
            assert not validator(document, schema).is_valid({field: None}), (schema, field)
    # Those that may be cleared still say so.
    assert validator(document, "ProductUpdate").is_valid({"description": None, "sku": None})


async def test_null_is_still_refused_where_the_schema_says_so(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    product = await factory.product()
    for field in ("name", "price", "stock"):
        response = await client.patch(f"/api/v1/products/{product.id}", json={field: None}, headers=staff.headers)
        assert response.status_code == 422, (field, response.text)
    cleared = await client.patch(f"/api/v1/products/{product.id}", json={"description": None}, headers=staff.headers)
    assert cleared.status_code == 200
    assert cleared.json()["description"] is None


async def test_a_login_needs_a_username_or_an_email(client: AsyncClient, document: dict[str, Any]) -> None:
    login = validator(document, "LoginRequest")
    password = "correct horse battery staple"
    for body in (
        {},
        {"password": password},
        {"username": None, "password": password},
        {"username": "  ", "password": password},
    ):
        assert not login.is_valid(body), body
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422, body
    for body in ({"username": "ada_l", "password": password}, {"email": "ada@example.com", "password": password}):
        assert login.is_valid(body), body
        assert (await client.post("/api/v1/auth/login", json=body)).status_code == 401  # no such account


# --- response headers ---------------------------------------------------------------------


def _headers(document: dict[str, Any], method: str, path: str, status: str) -> dict[str, Any]:
    headers: dict[str, Any] = document["paths"][path][method]["responses"][status].get("headers", {})
    return headers


def test_every_response_declares_the_request_id(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-ID"]["required"] is True, (method, path, status)
            if status == "401":
                assert "WWW-Authenticate" in response["headers"], (method, path)
            if status == "429":
                assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= response["headers"].keys(), (method, path)
        if path.startswith("/api/v1/"):
            assert "429" in operation["responses"], (method, path)  # the general limit, when set


def test_contract_headers_are_declared_where_they_are_sent(document: dict[str, Any]) -> None:
    assert {"ETag"} <= _headers(document, "get", "/api/v1/products/{product_id}", "200").keys()
    assert {"ETag", "Location"} <= _headers(document, "post", "/api/v1/products", "201").keys()
    assert {"ETag", "Location", "Idempotent-Replayed"} <= _headers(document, "post", "/api/v1/orders", "201").keys()
    assert {"Location"} <= _headers(document, "post", "/api/v1/auth/register", "201").keys()
    assert {"Location"} <= _headers(document, "post", "/api/v1/notifications/email", "202").keys()
    for path in (
        "/api/v1/products",
        "/api/v1/orders",
        "/api/v1/users",
        "/api/v1/notifications",
        "/api/v1/auth/api-keys",
    ):
        assert {"X-Total-Count", "Link"} <= _headers(document, "get", path, "200").keys(), path
        page = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert page["maxItems"] == 100, path
    assert _headers(document, "post", "/api/v1/auth/login", "200")["Cache-Control"]["schema"]["enum"] == ["no-store"]
    image = _headers(document, "get", "/api/v1/products/{product_id}/image", "200")
    assert {"ETag", "Cache-Control"} <= image.keys()


def test_conditional_requests_are_declared(document: dict[str, Any]) -> None:
    def parameters(method: str, path: str) -> set[str]:
        return {parameter["name"] for parameter in document["paths"][path][method].get("parameters", [])}

    for method, path in [
        ("get", "/api/v1/products/{product_id}"),
        ("get", "/api/v1/products/{product_id}/image"),
        ("get", "/api/v1/orders/{order_id}"),
        ("get", "/api/v1/users/{user_id}"),
    ]:
        assert "If-None-Match" in parameters(method, path), path
        assert "ETag" in document["paths"][path][method]["responses"]["304"]["headers"], path
    for method, path in [
        ("put", "/api/v1/products/{product_id}"),
        ("patch", "/api/v1/products/{product_id}"),
        ("delete", "/api/v1/products/{product_id}"),
        ("patch", "/api/v1/users/me"),
        ("patch", "/api/v1/users/{user_id}"),
        ("delete", "/api/v1/users/{user_id}"),
        ("post", "/api/v1/orders/{order_id}/cancel"),
        ("post", "/api/v1/orders/{order_id}/status"),
    ]:
        assert "If-Match" in parameters(method, path), (method, path)
        assert "412" in document["paths"][path][method]["responses"], (method, path)


async def test_declared_required_headers_are_sent(
    client: AsyncClient, factory: Factory, document: dict[str, Any]
) -> None:
    """Real responses carry every header their documented response says they always do."""
    staff = await factory.staff()
    created = await client.post(
        "/api/v1/products", json={"name": "Cup", "price": "3.50", "stock": 5}, headers=staff.headers
    )
    product = created.json()["id"]
    etag = created.headers["etag"]
    exchanges = [
        ("post", "/api/v1/products", created),
        ("get", "/api/v1/products", await client.get("/api/v1/products")),
        ("get", "/api/v1/products/{product_id}", await client.get(f"/api/v1/products/{product}")),
        (
            "get",
            "/api/v1/products/{product_id}",
            await client.get(f"/api/v1/products/{product}", headers={"If-None-Match": etag}),
        ),
        (
            "patch",
            "/api/v1/products/{product_id}",
            await client.patch(
                f"/api/v1/products/{product}", json={"stock": 6}, headers={**staff.headers, "If-Match": etag}
            ),
        ),
        (
            "patch",
            "/api/v1/products/{product_id}",
            await client.patch(
                f"/api/v1/products/{product}", json={"stock": 7}, headers={**staff.headers, "If-Match": etag}
            ),
        ),
        (
            "post",
            "/api/v1/orders",
            await client.post(
                "/api/v1/orders", json={"items": [{"product_id": product, "quantity": 1}]}, headers=staff.headers
            ),
        ),
        ("get", "/api/v1/users/me", await client.get("/api/v1/users/me", headers=staff.headers)),
        ("get", "/api/v1/users/me", await client.get("/api/v1/users/me")),
        ("get", "/health", await client.get("/health")),
        ("post", "/api/v1/auth/login", await client.post("/api/v1/auth/login", json={})),
    ]
    statuses = set()
    for method, path, response in exchanges:
        declared = document["paths"][path][method]["responses"][str(response.status_code)]
        for name, header in declared.get("headers", {}).items():
            if header["required"]:
                assert name.lower() in response.headers, (method, path, response.status_code, name)
        statuses.add(response.status_code)
    assert {200, 201, 304, 401, 412, 422} <= statuses
