"""Discount codes over HTTP: /api/v1/discounts, as staff see them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient

from storefront.database import Database
from storefront.models import Discount, DiscountCustomerUse
from storefront.pricing import DiscountKind
from tests.catalog.test_api import assert_problem
from tests.factories import Factory
from tests.rules.helpers import columns, stored

URL = "/api/v1/discounts"
DISCOUNT_KEYS = {
    "id",
    "code",
    "kind",
    "value",
    "starts_at",
    "ends_at",
    "max_uses",
    "max_uses_per_customer",
    "min_subtotal",
    "active",
    "used",
    "created_at",
    "updated_at",
}


async def test_staff_create_a_discount_code(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    body = {
        "code": "Welcome10",
        "kind": "percent",
        "value": "10",
        "starts_at": "2026-12-01T01:00:00+01:00",
        "ends_at": "2027-01-01T00:00:00Z",
        "max_uses": 500,
        "max_uses_per_customer": 1,
        "min_subtotal": 25,
    }

    response = await client.post(URL, json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == DISCOUNT_KEYS
    assert created | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "code": "Welcome10",  # as typed
        "kind": "percent",
        "value": "10.00",
        "starts_at": "2026-12-01T00:00:00Z",
        "ends_at": "2027-01-01T00:00:00Z",
        "max_uses": 500,
        "max_uses_per_customer": 1,
        "min_subtotal": "25.00",
        "active": True,
        "used": 0,
        "created_at": "",
        "updated_at": "",
    }
    assert response.headers["Location"] == f"{URL}/{created['id']}"
    assert response.headers["ETag"] == f'"discount-{created["id"]}-v1"'
    assert response.headers["Cache-Control"] == "no-store"
    [row] = await stored(database, Discount)
    assert (row.code, row.code_key, row.value, row.used) == ("Welcome10", "welcome10", Decimal("10.00"), 0)


async def test_a_whole_json_number_is_a_count(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    body = {"code": "WHOLE", "kind": "fixed", "value": 1, "max_uses": 5.0, "max_uses_per_customer": 1.0}

    response = await client.post(URL, json=body, headers=staff.headers)

    assert response.status_code == 201, response.text
    assert (response.json()["max_uses"], response.json()["max_uses_per_customer"]) == (5, 1)


async def test_a_fixed_discount_needs_only_code_kind_and_value(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    response = await client.post(URL, json={"code": "FIVE-OFF_1", "kind": "fixed", "value": 5}, headers=staff.headers)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["value"], body["active"], body["starts_at"], body["max_uses"]) == ("5.00", True, None, None)


@pytest.mark.parametrize("code", ["welcome10", "WELCOME10", "WeLcOmE10"])
async def test_codes_are_unique_ignoring_case(
    client: AsyncClient, factory: Factory, database: Database, code: str
) -> None:
    staff = await factory.staff()
    await factory.discount("Welcome10")

    response = await client.post(URL, json={"code": code, "kind": "fixed", "value": "5"}, headers=staff.headers)

    assert_problem(response, 409, "discount_code_taken")
    assert [row.code for row in await stored(database, Discount)] == ["Welcome10"]


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("percent over 100", {"kind": "percent", "value": "100.01"}),
    ("percent far over 100", {"kind": "percent", "value": 150}),
    ("three decimals", {"value": "5.001"}),
    ("three decimals as a number", {"value": 5.001}),
    ("zero", {"value": 0}),
    ("negative", {"value": "-5"}),
    ("an exponent", {"value": "1e2"}),
    ("over the maximum", {"value": "1000000.01"}),
    ("ends before it starts", {"starts_at": "2027-01-02T00:00:00Z", "ends_at": "2027-01-01T00:00:00Z"}),
    ("ends as it starts", {"starts_at": "2027-01-01T00:00:00Z", "ends_at": "2027-01-01T01:00:00+01:00"}),
    ("a time without an offset", {"ends_at": "2027-01-01T00:00:00"}),
    ("a time as a number", {"ends_at": 1798761600}),
    ("a date without a time", {"ends_at": "2027-01-01"}),
    ("a time out of range in UTC", {"ends_at": "9999-12-31T23:59:59-05:00"}),
    ("no uses", {"max_uses": 0}),
    ("no uses per customer", {"max_uses_per_customer": 0}),
    ("uses as a string", {"max_uses": "5"}),
    ("uses as a boolean", {"max_uses": True}),
    ("uses with a fraction", {"max_uses": 2.5}),
    ("a negative minimum", {"min_subtotal": "-1"}),
    ("an unknown kind", {"kind": "bogo"}),
    ("a code with a space", {"code": "WELCOME 10"}),
    ("a blank code", {"code": ""}),
    ("a long code", {"code": "X" * 41}),
    ("the use count", {"used": 3}),
    ("active as a number", {"active": 1}),
    ("active as a string", {"active": "true"}),
    ("an unknown field", {"colour": "red"}),
]


@pytest.mark.parametrize(("case", "change"), BAD_BODIES, ids=[case for case, _ in BAD_BODIES])
async def test_bad_discounts_are_refused_and_nothing_is_stored(
    client: AsyncClient, factory: Factory, database: Database, case: str, change: dict[str, Any]
) -> None:
    staff = await factory.staff()
    body = {"code": "SALE", "kind": "fixed", "value": "5.00"} | change

    response = await client.post(URL, json=body, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert await stored(database, Discount) == []


async def test_a_cross_field_refusal_names_the_field(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()

    over = await client.post(URL, json={"code": "X", "kind": "percent", "value": 120}, headers=staff.headers)
    backwards = await client.post(
        URL,
        json={
            "code": "X",
            "kind": "fixed",
            "value": 1,
            "starts_at": "2027-02-01T00:00Z",
            "ends_at": "2027-01-01T00:00Z",
        },
        headers=staff.headers,
    )

    assert assert_problem(over, 422, "validation_error")["errors"] == [
        {"loc": ["body", "value"], "msg": "a percent discount is at most 100", "type": "value_error"}
    ]
    assert assert_problem(backwards, 422, "validation_error")["errors"][0]["loc"] == ["body", "ends_at"]


async def test_one_discount_with_etag_and_304(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    discount = await factory.discount("SPRING", kind=DiscountKind.fixed, value=Decimal("7.50"), used=2)

    response = await client.get(f"{URL}/{discount.id}", headers=staff.headers)

    assert response.status_code == 200
    assert (response.json()["code"], response.json()["value"], response.json()["used"]) == ("SPRING", "7.50", 2)
    etag = response.headers["ETag"]
    assert etag == f'"discount-{discount.id}-v1"'
    again = await client.get(f"{URL}/{discount.id}", headers=staff.headers | {"If-None-Match": etag})
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert_problem(await client.get(f"{URL}/{discount.id + 1}", headers=staff.headers), 404, "discount_not_found")


async def test_the_list_pages_sorts_and_filters(client: AsyncClient, factory: Factory) -> None:
    staff = await factory.staff()
    await factory.discount("banana", used=3)
    await factory.discount("Apple", kind=DiscountKind.fixed, value=Decimal(5))
    await factory.discount("cherry", active=False, used=1)

    first = await client.get(URL, params={"limit": 2}, headers=staff.headers)
    by_use = await client.get(URL, params={"sort": "-used"}, headers=staff.headers)
    inactive = await client.get(URL, params={"active": "false"}, headers=staff.headers)
    fixed = await client.get(URL, params={"kind": "fixed"}, headers=staff.headers)
    containing = await client.get(URL, params={"code": "AN"}, headers=staff.headers)

    assert [d["code"] for d in first.json()] == ["Apple", "banana"]  # ignoring case
    assert first.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in first.headers["Link"]
    assert [d["code"] for d in by_use.json()] == ["banana", "cherry", "Apple"]
    assert [d["code"] for d in inactive.json()] == ["cherry"]
    assert [d["code"] for d in fixed.json()] == ["Apple"]
    assert [d["code"] for d in containing.json()] == ["banana"]
    assert_problem(await client.get(URL, params={"sort": "value"}, headers=staff.headers), 422, "validation_error")
    assert_problem(await client.get(URL, params={"limit": 101}, headers=staff.headers), 422, "validation_error")


async def test_patch_changes_only_what_is_sent(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff = await factory.staff()
    discount = await factory.discount("AUTUMN", ends_at=datetime(2027, 1, 1, tzinfo=UTC), max_uses=10)
    etag = (await client.get(f"{URL}/{discount.id}", headers=staff.headers)).headers["ETag"]

    response = await client.patch(
        f"{URL}/{discount.id}",
        json={"code": "autumn-2027", "value": "12.5", "ends_at": None, "active": False},
        headers=staff.headers | {"If-Match": etag},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["value"], body["ends_at"], body["active"], body["max_uses"]) == (
        "autumn-2027",
        "12.50",
        None,
        False,
        10,
    )
    assert response.headers["ETag"] == f'"discount-{discount.id}-v2"'
    [row] = await stored(database, Discount)
    assert row.code_key == "autumn-2027"


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    discount = await factory.discount("STALE")
    before = columns((await stored(database, Discount))[0])

    response = await client.patch(
        f"{URL}/{discount.id}", json={"value": 20}, headers=staff.headers | {"If-Match": '"discount-1-v0"'}
    )

    assert_problem(response, 412, "precondition_failed")
    assert columns((await stored(database, Discount))[0]) == before


PATCH_REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    ("a fixed amount over 100 made a percent", {"kind": "percent"}, "value"),
    ("a percent value over 100", {"value": "101"}, "value"),
    ("an end before the stored start", {"ends_at": "2027-01-01T00:00:00Z"}, "ends_at"),
    ("a start after the stored end", {"starts_at": "2028-06-01T00:00:00Z"}, "ends_at"),
    ("max_uses below the uses so far", {"max_uses": 2}, "max_uses"),
]


@pytest.mark.parametrize(("case", "change", "field"), PATCH_REFUSALS, ids=[case for case, _, _ in PATCH_REFUSALS])
async def test_a_patch_that_would_break_the_discount_is_422_and_changes_nothing(
    client: AsyncClient, factory: Factory, database: Database, case: str, change: dict[str, Any], field: str
) -> None:
    staff = await factory.staff()
    await factory.discount(
        "SOLID",
        kind=DiscountKind.fixed,
        value=Decimal(150),
        starts_at=datetime(2027, 3, 1, tzinfo=UTC),
        ends_at=datetime(2027, 12, 1, tzinfo=UTC),
        used=3,
    )
    if case == "a percent value over 100":
        await client.patch(f"{URL}/1", json={"kind": "percent", "value": 50}, headers=staff.headers)
    before = columns((await stored(database, Discount))[0])

    response = await client.patch(f"{URL}/1", json=change, headers=staff.headers)

    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"] == ["body", field]
    assert columns((await stored(database, Discount))[0]) == before


@pytest.mark.parametrize(
    "change",
    [{"code": None}, {"kind": None}, {"value": None}, {"active": None}, {"used": 0}, {"value": "1.001"}],
)
async def test_patch_refuses_bad_fields(
    client: AsyncClient, factory: Factory, database: Database, change: dict[str, Any]
) -> None:
    staff = await factory.staff()
    discount = await factory.discount("FIELDS")

    response = await client.patch(f"{URL}/{discount.id}", json=change, headers=staff.headers)

    assert_problem(response, 422, "validation_error")
    assert (await stored(database, Discount))[0].version == 1


async def test_patch_to_another_discounts_code_is_409(
    client: AsyncClient, factory: Factory, database: Database
) -> None:
    staff = await factory.staff()
    await factory.discount("TAKEN")
    mine = await factory.discount("MINE")

    taken = await client.patch(f"{URL}/{mine.id}", json={"code": "taken"}, headers=staff.headers)
    own = await client.patch(f"{URL}/{mine.id}", json={"code": "mine"}, headers=staff.headers)

    assert_problem(taken, 409, "discount_code_taken")
    assert own.status_code == 200  # its own code in another case
    assert [row.code for row in await stored(database, Discount)] == ["TAKEN", "mine"]


async def test_delete_removes_the_code_and_its_uses(client: AsyncClient, factory: Factory, database: Database) -> None:
    staff, customer = await factory.staff(), await factory.customer()
    discount = await factory.discount("GONE", used=1)
    async with database.transaction() as session:
        session.add(DiscountCustomerUse(discount_id=discount.id, user_id=customer.id, uses=1))

    stale = await client.delete(f"{URL}/{discount.id}", headers=staff.headers | {"If-Match": '"discount-1-v9"'})
    assert_problem(stale, 412, "precondition_failed")
    assert len(await stored(database, Discount)) == 1

    response = await client.delete(f"{URL}/{discount.id}", headers=staff.headers)

    assert response.status_code == 204
    assert await stored(database, Discount) == []
    async with database.read_session() as session:
        assert await session.get(DiscountCustomerUse, (discount.id, customer.id)) is None
    assert_problem(await client.delete(f"{URL}/{discount.id}", headers=staff.headers), 404, "discount_not_found")
