"""A method a path does not have is 405 with a true `Allow`, whichever template the path also fits.

`/users/me`, `/users/export.csv`, `/products/export`, `/orders/export` and
`/notifications/email` are paths of their own, not ids for the `/{id}`
templates beside them: a method they lack is 405, never a 422 about a bad id.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import Factory

METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")


def allowed(response: Any) -> set[str]:
    return {method.strip() for method in response.headers["allow"].split(",")}


def assert_method_not_allowed(response: Any, allow: set[str]) -> None:
    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "method_not_allowed"
    assert body["status"] == 405
    assert body["request_id"] == response.headers["x-request-id"]
    assert allowed(response) == allow


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/products/export", {"GET"}),
        ("PATCH", "/api/v1/users/export.csv", {"GET"}),
        ("DELETE", "/api/v1/users/me", {"GET", "PATCH"}),
        ("GET", "/api/v1/notifications/email", {"POST"}),
    ],
)
async def test_a_literal_path_is_not_an_id(
    client: AsyncClient, factory: Factory, method: str, path: str, allow: set[str]
) -> None:
    admin = await factory.admin()

    response = await client.request(method, path, headers=admin.headers)

    assert_method_not_allowed(response, allow)


async def test_delete_users_me_leaves_the_account_alone(client: AsyncClient, factory: Factory) -> None:
    customer = await factory.customer()

    response = await client.delete("/api/v1/users/me", headers=customer.headers)

    assert response.status_code == 405
    me = await client.get("/api/v1/users/me", headers=customer.headers)
    assert me.status_code == 200
    assert me.json()["is_active"] is True


async def test_an_id_that_is_not_a_number_is_still_422(client: AsyncClient, factory: Factory) -> None:
    """Only paths other routes name are taken from the templates: `/products/abc` is a bad id."""
    staff = await factory.staff()

    response = await client.put("/api/v1/products/abc", json={"name": "x", "price": "1.00"}, headers=staff.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "product_id"]


async def test_every_documented_path_answers_405_to_the_methods_it_lacks(client: AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    document = (await client.get("/openapi.json")).json()
    checked = 0
    for template, item in document["paths"].items():
        declared = {method.upper() for method in item if method.upper() in METHODS}
        path = re.sub(r"\{[^}]+\}", "1", template)
        for method in sorted(set(METHODS) - declared):
            response = await client.request(method, path, headers=admin.headers)
            assert response.status_code == 405, (method, template, response.status_code, response.text)
            assert allowed(response) == declared, (method, template, response.headers["allow"])
            assert response.headers["content-type"] == "application/problem+json", (method, template)
            checked += 1
    assert checked > 100
