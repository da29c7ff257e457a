"""OpenAPI pieces: the problem+json schema and per-operation error responses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

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
