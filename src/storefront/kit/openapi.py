"""OpenAPI pieces: the problem+json schema, per-operation error responses, and the
post-processing that declares what the routes do beyond FastAPI's own view of them."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from storefront.errors import MAX_LISTED_ERRORS, MAX_LOCATION_DEPTH, MAX_TEXT
from storefront.kit.etag import MAX_CONDITION
from storefront.kit.schemas import money_pattern

_Text = Annotated[str, Field(max_length=MAX_TEXT)]


class ValidationIssue(BaseModel):
    loc: list[_Text | Annotated[int, Field(ge=0, le=2**31 - 1)]] = Field(max_length=MAX_LOCATION_DEPTH)
    msg: str = Field(max_length=MAX_TEXT * 5)
    type: _Text


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(max_length=2048, examples=["about:blank"])
    title: str = Field(max_length=100, examples=["Not Found"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str = Field(max_length=2000, examples=["No such product."])
    code: str = Field(max_length=64, pattern="^[a-z0-9_]+$", examples=["product_not_found"])
    request_id: str | None = Field(max_length=128, examples=["3f2c9a0e5b7d4c1a8e6f0b2d4a6c8e0f"])
    errors: list[ValidationIssue] | None = Field(
        None, max_length=MAX_LISTED_ERRORS, description="Present on 422 validation errors: the first 50 issues."
    )
    error_count: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Present on 422 validation errors: how many issues there were."
    )


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an operation: each status documented as problem+json."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "model": Problem,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


PROBLEM_REF = "#/components/schemas/Problem"
_PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": PROBLEM_REF}}}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
API_PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class Operation:
    """An operation's stable id and the headers it sends or honours (what the routes do)."""

    id: str
    public: bool = False  # anyone may call it: the anonymous `{}` is among its security alternatives
    etag: bool = False  # its success responses carry `ETag`
    if_none_match: bool = False  # GET: an `If-None-Match` that still matches gives 304
    if_match: bool = False  # an `If-Match` that no longer matches gives 412 and changes nothing
    location: bool = False  # its 201/202 names the new resource in `Location`
    idempotent: bool = False  # honours `Idempotency-Key`; a replay says `Idempotent-Replayed: true`
    cache_control: str | None = None  # the `Cache-Control` its success responses send
    security: tuple[str, ...] | None = None  # the schemes it takes, when not those of its dependencies


@dataclass(frozen=True, slots=True)
class Contract:
    """What the document declares beyond what FastAPI derives from the routes."""

    operations: Mapping[str, Operation] = dataclasses.field(default_factory=dict)  # by operationId
    security_schemes: Mapping[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # added or amended
    scheme_aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)  # a scheme also declared as another


def install_openapi(app: FastAPI, contract: Contract | None = None) -> None:
    """Post-process the generated document once: see `tidy_openapi`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tidy_openapi(build(), contract or Contract())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def tidy_openapi(document: dict[str, Any], contract: Contract | None = None) -> dict[str, Any]:
    """Errors documented as what is sent (problem+json only, FastAPI's own 422 schema
    replaced), no 415 where there is no body, a whole example per JSON request body,
    and what the contract adds: security alternatives, conditional requests, 429,
    and every response header the API sends."""
    contract = contract or Contract()
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.get("schemas", {})
    schemes = components.setdefault("securitySchemes", {})
    for name, definition in contract.security_schemes.items():
        schemes[name] = {**schemes.get(name, {}), **definition}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            facts = contract.operations.get(operation.get("operationId", ""), Operation(""))
            _problem_responses(operation)
            _wire_parameters(operation)
            _security(operation, facts, contract.scheme_aliases)
            _conditional(operation, facts)
            if path.startswith(API_PREFIX):
                # The general per-caller limit (RATE_LIMIT_DEFAULT), when set, covers every API operation.
                operation["responses"].setdefault("429", _problem(429))
            _response_headers(operation, facts)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body and "examples" not in body:
                example = _example(body.get("schema", {}), schemas, depth=0)
                if example is not None:
                    body["example"] = example
    _walk(document, _place_number_bounds)
    _walk(document, _bounded_formats)
    paths = json.dumps(document.get("paths", {}))
    if not any(f"#/components/schemas/{name}" in paths for name in _FASTAPI_VALIDATION_SCHEMAS):
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


_BOUNDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}
_DECIMAL_KEYS = ("max_digits", "decimal_places")


def _place_number_bounds(schema: dict[str, Any]) -> None:
    """Pydantic cannot put the bounds of a validated money field (`Price`: > 0,
    <= 1,000,000) where they belong and leaves them as `gt`/`le` keys beside its
    `anyOf`: they go on the number alternative, as the JSON Schema keywords."""
    bounds = {key: schema.pop(key) for key in list(_BOUNDS) if key in schema}
    for key in _DECIMAL_KEYS:
        schema.pop(key, None)  # stated by `multipleOf` and the bounds
    if not bounds:
        return
    placed = {_BOUNDS[key]: float(value) for key, value in bounds.items()}
    low = placed.get("minimum", placed.get("exclusiveMinimum", 0.0))
    pattern = money_pattern(low, exclusive="exclusiveMinimum" in placed, maximum=placed.get("maximum"))
    branches = [inner for branch in schema.get("anyOf", []) for inner in [branch, *branch.get("anyOf", [])]]
    for branch in branches:
        if branch.get("type") == "number":
            branch.update(placed)
        elif branch.get("type") == "string" and pattern is not None:
            branch["pattern"] = pattern


INT32 = 2**31 - 1
# ISO 8601 with microseconds and an offset: "2026-12-01T21:35:10.458833+00:00".
DATE_TIME_MAX = 32


def _bounded_formats(schema: dict[str, Any]) -> None:
    """Integers say their width (int32 when their bounds fit it) and timestamps their length."""
    if schema.get("type") == "integer" and "format" not in schema:
        low, high = schema.get("minimum", -INT32 - 1), schema.get("maximum", INT32 + 1)
        schema["format"] = "int32" if low >= -INT32 - 1 and high <= INT32 else "int64"
    elif schema.get("type") == "string" and schema.get("format") == "date-time":
        schema.setdefault("maxLength", DATE_TIME_MAX)


def _problem(status: int) -> dict[str, Any]:
    return {"description": HTTPStatus(status).phrase, "content": dict(_PROBLEM_CONTENT)}


def _problem_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    if "requestBody" not in operation:
        responses.pop("415", None)  # nothing to send in the wrong format
    for status, response in responses.items():
        content = response.get("content", {})
        for media in content.values():
            # FastAPI's SSE responses use OpenAPI 3.2's `itemSchema`, invalid in 3.1; the
            # stream's response describes its frames instead.
            media.pop("itemSchema", None)
        fastapi_422 = status == "422" and "HTTPValidationError" in str(content)
        if "application/problem+json" in content or fastapi_422:
            # The app sends errors only as problem+json: documenting application/json
            # too would tell clients (and schema checkers) to expect either.
            response["content"] = dict(_PROBLEM_CONTENT)
            if fastapi_422:
                response["description"] = HTTPStatus(422).phrase


def _wire_parameters(operation: dict[str, Any]) -> None:
    """A query or header parameter cannot carry JSON `null`: leaving it out is how a
    client says "none", so its schema loses FastAPI's `null` alternative. A page
    (`limit`) answers with its paging headers and at most `limit` items."""
    for parameter in operation.get("parameters", []):
        schema = parameter.get("schema", {})
        branches = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
        if branches and len(branches) < len(schema["anyOf"]):
            rest = {key: value for key, value in schema.items() if key != "anyOf" and value is not None}
            parameter["schema"] = {**branches[0], **rest} if len(branches) == 1 else {**rest, "anyOf": branches}
        if parameter["in"] == "query" and parameter["name"] == "limit" and "maximum" in parameter["schema"]:
            _page(operation, int(parameter["schema"]["maximum"]))


def _page(operation: dict[str, Any], most: int) -> None:
    ok = operation["responses"].get("200", {})
    for media in ok.get("content", {}).values():
        if media.get("schema", {}).get("type") == "array":
            media["schema"]["maxItems"] = most
    ok.setdefault("headers", {}).update({"X-Total-Count": HEADERS["X-Total-Count"], "Link": HEADERS["Link"]})


def _security(operation: dict[str, Any], facts: Operation, aliases: Mapping[str, str]) -> None:
    """Every alternative spelled out: the schemes it takes, and `{}` when anyone may
    call it. An operation that is neither says nothing, which linters flag."""
    if facts.security is not None:
        required: list[dict[str, list[str]]] = [{name: []} for name in facts.security]
    else:
        required = []
        for requirement in operation.get("security", []):
            required.append(requirement)
            alias = aliases.get(next(iter(requirement), ""))
            if alias is not None and len(requirement) == 1:
                required.append({alias: []})
    if facts.public:
        required.append({})
    if required:
        operation["security"] = required


def _conditional(operation: dict[str, Any], facts: Operation) -> None:
    parameters = operation.setdefault("parameters", [])
    responses = operation["responses"]
    if facts.if_none_match:
        parameters.append(CONDITIONAL_PARAMETERS["If-None-Match"])
        headers = {"ETag": HEADERS["ETag"]}
        if facts.cache_control:
            headers["Cache-Control"] = _cache_control(facts.cache_control)
        responses["304"] = {"description": "Not Modified: the client's copy (`If-None-Match`) is current.",
                            "headers": headers}  # fmt: skip
    if facts.if_match:
        parameters.append(CONDITIONAL_PARAMETERS["If-Match"])
        responses.setdefault("412", _problem(412))
    if facts.if_none_match or facts.if_match:
        responses.setdefault("422", _problem(422))  # an overlong condition header
    if not parameters:
        del operation["parameters"]


def _response_headers(operation: dict[str, Any], facts: Operation) -> None:
    for status, response in operation["responses"].items():
        headers = response.setdefault("headers", {})
        if status.startswith("2"):
            if facts.etag:
                # A replayed `Idempotency-Key` response repeats the status, body and `Location` only.
                headers["ETag"] = HEADERS["ETag"] if not facts.idempotent else _optional(HEADERS["ETag"])
            if facts.location and status in {"201", "202"}:
                headers["Location"] = HEADERS["Location"]
            if facts.idempotent:
                headers["Idempotent-Replayed"] = HEADERS["Idempotent-Replayed"]
            if facts.cache_control:
                headers["Cache-Control"] = _cache_control(facts.cache_control)
        elif status == "401":
            headers["WWW-Authenticate"] = HEADERS["WWW-Authenticate"]
        elif status == "429":
            headers.update({name: HEADERS[name] for name in ("Retry-After", "RateLimit-Policy", "RateLimit")})
        headers.update({"X-Request-ID": HEADERS["X-Request-ID"], "Server-Timing": HEADERS["Server-Timing"]})


def _header(description: str, schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": schema}


def _optional(header: dict[str, Any]) -> dict[str, Any]:
    return {**header, "required": False}


def _cache_control(value: str) -> dict[str, Any]:
    return _header("How caches may keep the response.", {"type": "string", "enum": [value]})


_TEXT = {"type": "string", "maxLength": 1024}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": _header(
        "The request's id: the client's own when it sent a sane one, else a new one; also in logs and problems.",
        {"type": "string", "maxLength": 128, "pattern": "^[A-Za-z0-9._:\\-]{1,128}$"},
    ),
    "Server-Timing": _header(
        "Time the app spent on the request, in milliseconds.",
        {"type": "string", "maxLength": 64, "pattern": "^app;dur=[0-9]+(\\.[0-9]+)?$"},
    ),
    "ETag": _header(
        "The resource's current version: send it back in `If-None-Match` (reads) or `If-Match` (writes).",
        {"type": "string", "maxLength": 128, "pattern": '^(W/)?"[^"]*"$'},
    ),
    "Location": _header("The URL of the created resource.", {"type": "string", "maxLength": 2048}),
    "Link": _header(
        "RFC 8288 links to the `first`, `prev`, `next` and `last` pages, as they apply.",
        {"type": "string", "maxLength": 8192},
    ),
    "X-Total-Count": _header(
        "How many items all pages hold together.",
        {"type": "integer", "format": "int64", "minimum": 0, "maximum": 2**63 - 1},
    ),
    "Idempotent-Replayed": _header(
        "`true` on the stored response of a repeated `Idempotency-Key`: nothing new was created.",
        {"type": "string", "enum": ["true"]},
        required=False,
    ),
    "WWW-Authenticate": _header(
        '`Bearer`, with `error="invalid_token"` when the credentials sent are bad or expired.',
        {"type": "string", "maxLength": 256, "pattern": "^Bearer"},
    ),
    # Sent with the 429s of the rate limits; a full stream slot (`too_many_streams`) sends none.
    "Retry-After": _header(
        "Seconds to wait before trying again.",
        {"type": "integer", "format": "int32", "minimum": 1, "maximum": 86400},
        required=False,
    ),
    "RateLimit-Policy": _header('The limit that was hit: `"<name>";q=<quota>;w=<window s>`.', _TEXT, required=False),
    "RateLimit": _header('What is left of it: `"<name>";r=<remaining>;t=<seconds to reset>`.', _TEXT, required=False),
}
CONDITIONAL_PARAMETERS: dict[str, dict[str, Any]] = {
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "ETags of the copy the client holds: 304 when one is still current.",
        "schema": {"type": "string", "maxLength": MAX_CONDITION},
    },
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": "The ETag the change is based on: 412, and nothing changes, when it is no longer current.",
        "schema": {"type": "string", "maxLength": MAX_CONDITION},
    },
}


def _example(schema: dict[str, Any], schemas: dict[str, Any], depth: int) -> Any:
    """An example built from the `examples` of the fields, or None if a required one has none."""
    if depth > 5:
        return None
    if "$ref" in schema:
        return _example(schemas.get(schema["$ref"].rsplit("/", 1)[-1], {}), schemas, depth + 1)
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][-1]
    for branch in schema.get("anyOf", []):
        if branch.get("type") != "null" and (found := _example(branch, schemas, depth + 1)) is not None:
            return found
    if schema.get("type") == "array" and "items" in schema:
        item = _example(schema["items"], schemas, depth + 1)
        return None if item is None else [item]
    if schema.get("type") != "object" or "properties" not in schema:
        return None
    required = set(schema.get("required", []))
    example: dict[str, Any] = {}
    for name, field in schema["properties"].items():
        value = _example(field, schemas, depth + 1)
        if value is not None:
            example[name] = value
        elif name in required:
            return None
    return example
