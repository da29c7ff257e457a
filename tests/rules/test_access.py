"""Who may touch the rules: staff and admins read and write them, customers get 403, strangers 401."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from storefront.database import Database
from storefront.models import Discount, ShippingMethod, TaxRate
from tests.catalog.test_api import assert_problem
from tests.factories import Factory
from tests.rules.helpers import caller, columns, stored

BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/discounts": {"code": "NEW", "kind": "fixed", "value": "5"},
    "/api/v1/shipping-methods": {"code": "new", "name": "New", "price": "1", "countries": ["IT"]},
    "/api/v1/tax-rates": {"country": "IT", "rate": "22"},
}
MODELS = {"/api/v1/discounts": Discount, "/api/v1/shipping-methods": ShippingMethod, "/api/v1/tax-rates": TaxRate}


async def _one_of_each(factory: Factory) -> None:
    await factory.discount("OLD")
    await factory.shipping_method("old")
    await factory.tax_rate("DE")


def _requests(url: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", url, None),
        ("POST", url, BODIES[url]),
        ("GET", f"{url}/1", None),
        ("PATCH", f"{url}/1", {}),
        ("DELETE", f"{url}/1", None),
    ]


@pytest.mark.parametrize("url", list(BODIES))
async def test_strangers_and_customers_are_refused_and_nothing_changes(
    client: AsyncClient, factory: Factory, database: Database, url: str
) -> None:
    await _one_of_each(factory)
    customer = await factory.customer()
    before = [columns(row) for row in await stored(database, MODELS[url])]

    for method, path, body in [*_requests(url), ("GET", f"{url}/99", None)]:
        anonymous = await client.request(method, path, json=body)
        refused = await client.request(method, path, json=body, headers=customer.headers)
        assert_problem(anonymous, 401, "not_authenticated")
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
        # 403 whether or not the id names a rule: a customer learns nothing of which exist.
        assert_problem(refused, 403, "forbidden")

    assert [columns(row) for row in await stored(database, MODELS[url])] == before


@pytest.mark.parametrize("role", ["staff", "admin"])
@pytest.mark.parametrize("url", list(BODIES))
async def test_staff_and_admins_may_do_everything(
    client: AsyncClient, factory: Factory, database: Database, url: str, role: str
) -> None:
    await _one_of_each(factory)
    actor = await caller(factory, role)

    statuses = [
        (await client.request(method, path, json=body, headers=actor.headers)).status_code
        for method, path, body in _requests(url)
    ]

    assert statuses == [200, 201, 200, 200, 204]
    assert len(await stored(database, MODELS[url])) == 1  # one made, one deleted


async def test_discounts_are_never_stored_by_caches_the_other_rules_as_other_reads(
    client: AsyncClient, factory: Factory
) -> None:
    staff = await factory.staff()

    discounts = await client.get("/api/v1/discounts", headers=staff.headers)
    methods = await client.get("/api/v1/shipping-methods", headers=staff.headers)

    assert discounts.headers["Cache-Control"] == "no-store"
    assert "Cache-Control" not in methods.headers
