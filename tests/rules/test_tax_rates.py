"""Tax rates over HTTP: /api/v1/tax-rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient

from storefront.database import Database
from storefront.models import TaxRate
from tests.catalog.test_api import assert_problem
from tests.factories import Factory
from tests.rules.helpers import columns, stored

URL = "/api/v1/tax-rates"


@pytest.mark.parametrize(
    ("sent", "shown"),
    [(19, "19.000"), ("7.7", "7.700"), (25.5, "25.500"), ("8.125", "8.125"), (0, "0.000"), ("100", "100.000")],
)
async def test_staff_set_a_countrys_rate(
    client: AsyncClient, factory: Factory, database: Database, sent: Any, shown: str
) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={"country": "de", "rate": sent}, headers=staff.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["country"], body["rate"]) == ("DE", shown)
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert response.headers["ETag"] == f'"tax-rate-{body["id"]}-v1"'
    [row] = await stored(database, TaxRate)
    assert (row.country, row.rate) == ("DE", Decimal(shown))


async def test_one_rate_per_country(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    await factory.tax_rate("DE", Decimal(19))

    response = await client.post(URL, json={"country": "de", "rate": 7}, headers=staff.headers)

    assert_problem(response, 409, "tax_rate_exists")
    assert [(row.country, row.rate) for row in await stored(database, TaxRate)] == [("DE", Decimal("19.000"))]


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("over 100", {"rate": "100.001"}),
    ("over 100 as a number", {"rate": 101}),
    ("negative", {"rate": -1}),
    ("four decimals", {"rate": "7.7777"}),
    ("four decimals as a number", {"rate": 7.7777}),
    ("an exponent", {"rate": "1e1"}),
    ("a percent sign", {"rate": "19%"}),
    ("no rate", {"rate": None}),
    ("an unknown country", {"country": "XX"}),
    ("a three-letter code", {"country": "DEU"}),
    ("a number for a country", {"country": 276}),
    ("an unknown field", {"reduced": "7"}),
]


@pytest.mark.parametrize(("case", "change"), BAD_BODIES, ids=[case for case, _ in BAD_BODIES])
async def test_bad_rates_are_refused_and_nothing_is_stored(
    client: AsyncClient, factory: Factory, database: Database, case: str, change: dict[str, Any]
) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={"country": "DE", "rate": "19"} | change, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert await stored(database, TaxRate) == []


async def test_one_rate_with_etag_and_304(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    rate = await factory.tax_rate("FR", Decimal(20))

    response = await client.get(f"{URL}/{rate.id}", headers=staff.headers)

    assert response.status_code == 200
    assert (response.json()["country"], response.json()["rate"]) == ("FR", "20.000")
    again = await client.get(f"{URL}/{rate.id}", headers=staff.headers | {"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert_problem(await client.get(f"{URL}/{rate.id + 1}", headers=staff.headers), 404, "tax_rate_not_found")


async def test_the_list_pages_sorts_and_filters(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    for country, rate in [("FR", "20"), ("DE", "19"), ("HU", "27"), ("LU", "17")]:
        await factory.tax_rate(country, Decimal(rate))

    by_country = await client.get(URL, params={"limit": 3}, headers=staff.headers)
    by_rate = await client.get(URL, params={"sort": "-rate"}, headers=staff.headers)
    one = await client.get(URL, params={"country": "hu"}, headers=staff.headers)

    assert [r["country"] for r in by_country.json()] == ["DE", "FR", "HU"]
    assert by_country.headers["X-Total-Count"] == "4"
    assert 'rel="last"' in by_country.headers["Link"]
    assert [r["country"] for r in by_rate.json()] == ["HU", "FR", "DE", "LU"]
    assert [(r["country"], r["rate"]) for r in one.json()] == [("HU", "27.000")]
    assert_problem(await client.get(URL, params={"country": "ZZ"}, headers=staff.headers), 422, "validation_error")


async def test_patch_changes_the_rate_and_honours_if_match(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    rate = await factory.tax_rate("FI", Decimal(24))
    etag = (await client.get(f"{URL}/{rate.id}", headers=staff.headers)).headers["ETag"]

    response = await client.patch(f"{URL}/{rate.id}", json={"rate": "25.5"}, headers=staff.headers | {"If-Match": etag})
    assert response.status_code == 200, response.text
    assert response.json()["rate"] == "25.500"
    assert response.headers["ETag"] == f'"tax-rate-{rate.id}-v2"'
    after = columns((await stored(database, TaxRate))[0])

    stale = await client.patch(f"{URL}/{rate.id}", json={"rate": 10}, headers=staff.headers | {"If-Match": etag})

    assert_problem(stale, 412, "precondition_failed")
    assert columns((await stored(database, TaxRate))[0]) == after


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"country": "de"}, 409, "tax_rate_exists"),
        ({"country": "XX"}, 422, "validation_error"),
        ({"country": None}, 422, "validation_error"),
        ({"rate": "100.5"}, 422, "validation_error"),
        ({"rate": None}, 422, "validation_error"),
    ],
)
async def test_patch_refusals_change_nothing(
    client: AsyncClient, factory: Factory, database: Database, change: dict[str, Any], status: int, code: str
) -> None:
    staff = await factory.staff()
    await factory.tax_rate("DE", Decimal(19))
    austria = await factory.tax_rate("AT", Decimal(20))
    before = [columns(row) for row in await stored(database, TaxRate)]

    response = await client.patch(f"{URL}/{austria.id}", json=change, headers=staff.headers)

    assert_problem(response, status, code)
    assert [columns(row) for row in await stored(database, TaxRate)] == before


async def test_delete(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    rate = await factory.tax_rate("NL", Decimal(21))

    stale = await client.delete(f"{URL}/{rate.id}", headers=staff.headers | {"If-Match": '"tax-rate-1-v3"'})
    assert_problem(stale, 412, "precondition_failed")
    response = await client.delete(f"{URL}/{rate.id}", headers=staff.headers)

    assert response.status_code == 204
    assert await stored(database, TaxRate) == []
    assert_problem(await client.delete(f"{URL}/{rate.id}", headers=staff.headers), 404, "tax_rate_not_found")
