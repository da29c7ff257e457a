"""OpenAPI pieces: the problem+json schema and per-operation error responses."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No such product."])
    code: str = Field(examples=["product_not_found"])
    request_id: str | None = Field(examples=["3f2c9a0e5b7d4c1a8e6f0b2d4a6c8e0f"])
    errors: list[ValidationIssue] | None = Field(None, description="Present on 422 validation errors.")


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


def install_openapi(app: FastAPI) -> None:
    """Post-process the generated document once: see `tidy_openapi`."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tidy_openapi(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def tidy_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Errors documented as what is sent (problem+json only, FastAPI's own 422 schema
    replaced), no 415 where there is no body, and a whole example per JSON request body."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            _problem_responses(operation)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body and "examples" not in body:
                example = _example(body.get("schema", {}), schemas, depth=0)
                if example is not None:
                    body["example"] = example
    paths = json.dumps(document.get("paths", {}))
    if not any(f"#/components/schemas/{name}" in paths for name in _FASTAPI_VALIDATION_SCHEMAS):
        for name in _FASTAPI_VALIDATION_SCHEMAS:
            schemas.pop(name, None)
    return document


def _problem_responses(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.get("responses", {})
    if "requestBody" not in operation:
        responses.pop("415", None)  # nothing to send in the wrong format
    for status, response in responses.items():
        content = response.get("content", {})
        for media in content.values():
            # FastAPI's SSE responses use OpenAPI 3.2's `itemSchema`, invalid in 3.1:
            # kept as an extension so the event shape stays documented.
            if "itemSchema" in media:
                media["x-itemSchema"] = media.pop("itemSchema")
        fastapi_422 = status == "422" and "HTTPValidationError" in str(content)
        if "application/problem+json" in content or fastapi_422:
            # The app sends errors only as problem+json: documenting application/json
            # too would tell clients (and schema checkers) to expect either.
            response["content"] = dict(_PROBLEM_CONTENT)
            if fastapi_422:
                response["description"] = HTTPStatus(422).phrase


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
