"""Shipping methods over HTTP: /api/v1/shipping-methods."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient

from storefront.database import Database
from storefront.models import ShippingMethod
from tests.catalog.test_api import assert_problem
from tests.factories import Factory
from tests.rules.helpers import columns, stored

URL = "/api/v1/shipping-methods"


async def test_staff_create_a_shipping_method(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    body = {
        "code": "Standard",
        "name": "Standard delivery",
        "price": "4.90",
        "free_over": 50,
        "countries": ["de", "FR"],
    }

    response = await client.post(URL, json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "code": "Standard",
        "name": "Standard delivery",
        "price": "4.90",
        "free_over": "50.00",
        "countries": ["DE", "FR"],  # upper-case, in the order sent
        "active": True,
        "created_at": "",
        "updated_at": "",
    }
    assert response.headers["Location"] == f"{URL}/{created['id']}"
    assert response.headers["ETag"] == f'"shipping-method-{created["id"]}-v1"'
    [row] = await stored(database, ShippingMethod)
    assert (row.code_key, row.countries, row.free_over) == ("standard", ["DE", "FR"], Decimal("50.00"))


async def test_a_free_method_without_free_over(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    body = {"code": "pickup", "name": "Pick up in store", "price": 0, "countries": ["BE"]}

    response = await client.post(URL, json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    assert (response.json()["price"], response.json()["free_over"]) == ("0.00", None)


async def test_codes_are_unique_ignoring_case(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    await factory.shipping_method("express")
    body = {"code": "EXPRESS", "name": "Express", "price": "9.90", "countries": ["DE"]}

    response = await client.post(URL, json=body, headers=staff.headers)

    assert_problem(response, 409, "shipping_method_code_taken")
    assert [row.code for row in await stored(database, ShippingMethod)] == ["express"]


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("an unknown country", {"countries": ["XX"]}),
    ("the United Kingdom as UK", {"countries": ["DE", "UK"]}),
    ("the European Union", {"countries": ["EU"]}),
    ("a three-letter code", {"countries": ["DEU"]}),
    ("a country twice", {"countries": ["DE", "de"]}),
    ("no country", {"countries": []}),
    ("a country with a space", {"countries": [" DE"]}),
    ("a price with three decimals", {"price": "4.999"}),
    ("a negative price", {"price": -1}),
    ("free over with three decimals", {"free_over": 50.001}),
    ("a blank name", {"name": "   "}),
    ("a long name", {"name": "N" * 121}),
    ("a code with a slash", {"code": "a/b"}),
    ("active as a number", {"active": 0}),
    ("an unknown field", {"zones": ["eu"]}),
]


@pytest.mark.parametrize(("case", "change"), BAD_BODIES, ids=[case for case, _ in BAD_BODIES])
async def test_bad_methods_are_refused_and_nothing_is_stored(
    client: AsyncClient, factory: Factory, database: Database, case: str, change: dict[str, Any]
) -> None:
    staff = await factory.staff()
    body = {"code": "standard", "name": "Standard", "price": "4.90", "countries": ["DE"]} | change

    response = await client.post(URL, json=body, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert await stored(database, ShippingMethod) == []


async def test_one_method_with_etag_and_304(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    method = await factory.shipping_method("standard")

    response = await client.get(f"{URL}/{method.id}", headers=staff.headers)

    assert response.status_code == 200
    assert response.json()["countries"] == ["DE", "FR"]
    etag = response.headers["ETag"]
    again = await client.get(f"{URL}/{method.id}", headers=staff.headers | {"If-None-Match": etag})
    assert again.status_code == 304
    missing = await client.get(f"{URL}/{method.id + 1}", headers=staff.headers)
    assert_problem(missing, 404, "shipping_method_not_found")


async def test_the_list_pages_sorts_and_filters(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    await factory.shipping_method("standard", price=Decimal("4.90"), countries=["DE", "FR", "NL"])
    await factory.shipping_method("express", price=Decimal("14.90"), countries=["DE"])
    await factory.shipping_method("overseas", price=Decimal("29.00"), countries=["US", "CA"], active=False)

    everything = await client.get(URL, headers=staff.headers)
    dearest = await client.get(URL, params={"sort": "-price", "limit": 1}, headers=staff.headers)
    to_germany = await client.get(URL, params={"country": "de"}, headers=staff.headers)
    to_the_netherlands = await client.get(URL, params={"country": "NL"}, headers=staff.headers)
    active = await client.get(URL, params={"active": "true", "code": "S"}, headers=staff.headers)

    assert [m["code"] for m in everything.json()] == ["express", "overseas", "standard"]
    assert everything.headers["X-Total-Count"] == "3"
    assert [m["code"] for m in dearest.json()] == ["overseas"]
    assert dearest.headers["X-Total-Count"] == "3"
    assert [m["code"] for m in to_germany.json()] == ["express", "standard"]
    assert [m["code"] for m in to_the_netherlands.json()] == ["standard"]
    assert [m["code"] for m in active.json()] == ["express", "standard"]
    unknown = await client.get(URL, params={"country": "XX"}, headers=staff.headers)
    assert_problem(unknown, 422, "validation_error")


async def test_patch_replaces_the_countries_and_honours_if_match(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    method = await factory.shipping_method("standard", free_over=Decimal(50))
    etag = (await client.get(f"{URL}/{method.id}", headers=staff.headers)).headers["ETag"]

    response = await client.patch(
        f"{URL}/{method.id}",
        json={"countries": ["at", "CH"], "free_over": None, "price": "5.50"},
        headers=staff.headers | {"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert (response.json()["countries"], response.json()["free_over"], response.json()["price"]) == (
        ["AT", "CH"],
        None,
        "5.50",
    )
    after = columns((await stored(database, ShippingMethod))[0])

    stale = await client.patch(f"{URL}/{method.id}", json={"price": 1}, headers=staff.headers | {"If-Match": etag})

    assert_problem(stale, 412, "precondition_failed")
    assert columns((await stored(database, ShippingMethod))[0]) == after


@pytest.mark.parametrize(
    "change",
    [{"countries": ["XX"]}, {"countries": []}, {"countries": None}, {"name": None}, {"price": "1.234"}],
)
async def test_patch_refuses_bad_fields(
    client: AsyncClient, factory: Factory, database: Database, change: dict[str, Any]
) -> None:
    staff = await factory.staff()
    method = await factory.shipping_method("standard")
    before = columns((await stored(database, ShippingMethod))[0])

    response = await client.patch(f"{URL}/{method.id}", json=change, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert columns((await stored(database, ShippingMethod))[0]) == before


async def test_patch_to_another_methods_code_is_409(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    await factory.shipping_method("express")
    mine = await factory.shipping_method("standard")

    response = await client.patch(f"{URL}/{mine.id}", json={"code": "Express"}, headers=staff.headers)

    assert_problem(response, 409, "shipping_method_code_taken")
    assert [row.code for row in await stored(database, ShippingMethod)] == ["express", "standard"]


async def test_delete(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    method = await factory.shipping_method("standard")

    stale = await client.delete(f"{URL}/{method.id}", headers=staff.headers | {"If-Match": '"shipping-method-1-v7"'})
    assert_problem(stale, 412, "precondition_failed")
    response = await client.delete(f"{URL}/{method.id}", headers=staff.headers)

    assert response.status_code == 204
    assert await stored(database, ShippingMethod) == []
    again = await client.delete(f"{URL}/{method.id}", headers=staff.headers)
    assert_problem(again, 404, "shipping_method_not_found")
